import { readFile } from 'node:fs/promises';
import { UnsatisfiableError } from '../../domain/errors';

/** What an ecoware-style credentials file holds. */
export interface FileCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region?: string;
}

const KEYS: Record<string, keyof FileCredentials> = {
  aws_access_key_id: 'accessKeyId',
  aws_secret_access_key: 'secretAccessKey',
  aws_session_token: 'sessionToken',
  aws_default_region: 'region',
  aws_region: 'region',
  region: 'region',
};

/**
 * Parses `KEY=VALUE` lines (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optional
 * `AWS_SESSION_TOKEN` and `AWS_DEFAULT_REGION` / `AWS_REGION` / `region`). Keys are case-insensitive;
 * blank lines, `#` comments, an `export ` prefix and quotes around values are allowed, so a shell
 * env file works as is. Unknown keys are ignored.
 */
export function parseCredentialsFile(text: string, source: string): FileCredentials {
  const found: Partial<FileCredentials> = {};
  text.split(/\r?\n/).forEach((rawLine) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('[')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*[=:]\s*(.*)$/.exec(line);
    if (!m) return;
    const key = KEYS[m[1].toLowerCase()];
    if (!key) return;
    const value = m[2].trim().replace(/^(['"])(.*)\1$/, '$2');
    if (value !== '') found[key] = value;
  });
  if (!found.accessKeyId || !found.secretAccessKey) {
    throw new UnsatisfiableError(`credentials file ${source} must set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
  }
  return found as FileCredentials;
}

export async function readCredentialsFile(path: string): Promise<FileCredentials> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UnsatisfiableError(`cannot read AWS credentials file ${path}: ${(err as Error).message}`);
  }
  return parseCredentialsFile(text, path);
}
