import { isPodChange } from './pod-routes';
import { createHash, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import { Request, RequestHandler } from 'express';
import { redactUrlSecrets } from '../domain/redact';
import { log } from '../log';
import { parseFlag } from './query';
import { sendError } from './error-codes';

export type Role = 'admin' | 'read';

/** A tokens file that cannot be used: the daemon refuses to start, naming the line. */
export class TokensFileError extends Error {}

interface Token {
  role: Role;
  digest: Buffer;
}

const CHALLENGE = ['Bearer realm="ecoware-executor"', 'Basic realm="ecoware-executor", charset="UTF-8"'];

/**
 * Who may do what. Tokens come from a file of `<role> <token>` lines (`#` starts a comment); a
 * request proves one with `Authorization: Bearer <token>` or with HTTP Basic, the token being the
 * password (any user name). Tokens are compared as SHA-256 digests in constant time and never
 * appear in logs, records or errors.
 */
export class AccessControl {
  private constructor(private readonly tokens: Token[]) {}

  static fromFile(file: string): AccessControl {
    let text: string;
    try {
      if ((fs.statSync(file).mode & 0o077) !== 0) log.warn({ file }, 'the tokens file can be read by other users: chmod 600 it');
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new TokensFileError(`cannot read the tokens file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return AccessControl.fromText(text, file);
  }

  static fromText(text: string, source = 'tokens'): AccessControl {
    const tokens: Token[] = [];
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.replace(/#.*$/, '').trim();
      if (line === '') return;
      const [role, token, ...rest] = line.split(/\s+/);
      if ((role !== 'admin' && role !== 'read') || !token || rest.length > 0) {
        throw new TokensFileError(`${source}:${i + 1}: expected '<admin|read> <token>'`);
      }
      if (token.length < 16) throw new TokensFileError(`${source}:${i + 1}: a token must have at least 16 characters`);
      tokens.push({ role, digest: digest(token) });
    });
    if (tokens.length === 0) throw new TokensFileError(`${source} holds no token`);
    return new AccessControl(tokens);
  }

  /** The role of the credentials in an `Authorization` header; undefined when absent or unknown. */
  roleOf(authorization: string | undefined): Role | undefined {
    const token = tokenOf(authorization);
    if (token === undefined) return undefined;
    const candidate = digest(token);
    let role: Role | undefined;
    for (const t of this.tokens) {
      // Every token is compared, so the time taken does not tell which one matched.
      if (timingSafeEqual(t.digest, candidate) && role !== 'admin') role = t.role;
    }
    return role;
  }

  /**
   * Requests that read (GET, HEAD, and `PUT /api/translate`, a preview that changes nothing; of
   * POD's GETs only its status actions) need either role; anything else needs `admin`. 401 with `WWW-Authenticate` without valid
   * credentials, 403 for a read token on a change.
   */
  middleware(sessions?: SessionSource): RequestHandler {
    return (req, res, next) => {
      const header = req.get('authorization');
      // The page's session cookie (ui-session.ts) stands for a token when no header is sent.
      const sessionRole = header === undefined ? sessions?.roleOf(req) : undefined;
      const role = this.roleOf(header) ?? sessionRole;
      if (!role) {
        // A page's own script (fetch, EventSource) is not offered Basic: the browser would put its sign-in dialog over the page's.
        const fromScript = ['cors', 'same-origin', 'no-cors'].includes(req.get('sec-fetch-mode') ?? '');
        res.set('WWW-Authenticate', fromScript ? CHALLENGE[0] : CHALLENGE);
        sendError(res, 'unauthorized', 'authentication required: send Authorization: Bearer <token> (or HTTP Basic with the token as password)');
        return;
      }
      const path = `${req.baseUrl}${req.path}`;
      if (role !== 'admin' && !isRead(req.method, path, req.query)) {
        sendError(res, 'forbidden', `${req.method} ${path.slice(0, 200)} changes state and needs an admin token`);
        return;
      }
      if (sessionRole && sessions && !isRead(req.method, path, req.query) && !sessions.fromPage(req)) {
        sendError(res, 'forbidden', `a change made with a session cookie must carry the header ${sessions.pageHeader}`);
        return;
      }
      next();
    };
  }
}

/** Sessions of the page (ui-session.ts): the role of a request's cookie, and whether it came from the page. */
export interface SessionSource {
  roleOf(req: Request): Role | undefined;
  /** The request carries the header a cross-site form cannot send. */
  fromPage(req: Request): boolean;
  readonly pageHeader: string;
}

function isRead(method: string, path: string, query: Record<string, unknown>): boolean {
  const route = path.replace(/\/+$/, '');
  if (route === '/POD') return (method === 'GET' || method === 'HEAD') && !isPodChange(route, query);
  // Previews change nothing: a plan preview, a drain's dry run, Tycho's status (a POST by its protocol).
  return method === 'GET' || method === 'HEAD'
    || (method === 'PUT' && route === '/api/translate')
    || (method === 'POST' && route === '/system/status')
    || (method === 'POST' && /^\/api\/nodes\/[^/]+\/drain$/.test(route) && parseFlag(query.dry_run) === true);
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function tokenOf(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const [scheme, value] = authorization.trim().split(/\s+/, 2);
  if (!value) return undefined;
  if (scheme.toLowerCase() === 'bearer') return value;
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

export { isLoopback } from './loopback';

/** A `JSON.stringify` replacer (express's `json replacer`) that redacts URL passwords in every answer. */
export function redactingReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'string' && value.includes('@') ? redactUrlSecrets(value) : value;
}
