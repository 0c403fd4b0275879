import { randomBytes } from 'node:crypto';
import { sendError } from './error-codes';
import express, { Request, Router } from 'express';
import { AccessControl, Role, SessionSource } from './access';

/** The cookie of a page's session. */
export const SESSION_COOKIE = 'ecoware_session';
/** How long a session lasts from its start (SPEC §11: 12 h). */
export const SESSION_TTL_MS = 12 * 3600 * 1000;
/**
 * A change made with the session cookie must carry this header: a cross-site form cannot send it,
 * and a cross-site script cannot either without a CORS preflight the daemon never allows.
 */
export const PAGE_HEADER = 'x-requested-with';
/** At most this many live sessions; the oldest goes first. */
const MAX_SESSIONS = 10_000;

interface Session {
  role: Role;
  expires: number;
}

/**
 * The page's sessions (SPEC §11): `POST /ui/session {token}` checks the token like the
 * `Authorization` header would and answers a random session id in an `HttpOnly`, `SameSite=Strict`
 * cookie (`Secure` under TLS) that lasts 12 h; `DELETE /ui/session` ends it; `GET /ui/session` tells
 * the page whether it needs to ask for a token and what its role is. Sessions live in memory: a
 * restarted daemon asks for the token again.
 */
export class UiSessions implements SessionSource {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly access: AccessControl, private readonly now: () => number = Date.now) {}

  /** The role of the request's session cookie; undefined without one or when it has expired. */
  roleOf(req: Request): Role | undefined {
    const id = cookieOf(req.get('cookie'), SESSION_COOKIE);
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expires <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session.role;
  }

  readonly pageHeader = PAGE_HEADER;

  fromPage(req: Request): boolean {
    return req.get(PAGE_HEADER) !== undefined;
  }

  private start(role: Role): { id: string; expires: number } {
    const now = this.now();
    for (const [id, s] of this.sessions) if (s.expires <= now) this.sessions.delete(id);
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
    const id = randomBytes(32).toString('base64url');
    const expires = now + SESSION_TTL_MS;
    this.sessions.set(id, { role, expires });
    return { id, expires };
  }

  private end(req: Request): void {
    const id = cookieOf(req.get('cookie'), SESSION_COOKIE);
    if (id) this.sessions.delete(id);
  }

  router(): Router {
    const router = Router();
    router.get('/ui/session', (req, res) => {
      const role = this.access.roleOf(req.get('authorization')) ?? this.roleOf(req);
      res.set('Cache-Control', 'no-store').json({ auth: 'tokens', role: role ?? null });
    });
    router.post('/ui/session', express.json({ limit: '4kb' }), (req, res) => {
      const token = (req.body as { token?: unknown } | undefined)?.token;
      const role = typeof token === 'string' && token.length <= 4096 ? this.access.roleOf(`Bearer ${token}`) : undefined;
      if (!role) {
        sendError(res, 'unauthorized', 'that token is not in the tokens file');
        return;
      }
      const { id, expires } = this.start(role);
      res.set('Cache-Control', 'no-store').cookie(SESSION_COOKIE, id, {
        httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/', expires: new Date(expires),
      }).json({ auth: 'tokens', role, expires_at: new Date(expires).toISOString() });
    });
    router.delete('/ui/session', (req, res) => {
      this.end(req);
      res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' }).status(204).end();
    });
    return router;
  }
}

/** Without a tokens file the page needs no session: every route is open (on loopback). */
export function openSessionRouter(): Router {
  const router = Router();
  router.get('/ui/session', (_req, res) => { res.set('Cache-Control', 'no-store').json({ auth: 'none', role: 'admin' }); });
  router.all('/ui/session', (_req, res) => {
    sendError(res, 'conflict', 'the daemon has no tokens file: the page needs no session');
  });
  return router;
}

function cookieOf(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
