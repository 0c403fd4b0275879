import { readFile } from 'node:fs/promises';
import { fromIni } from '@aws-sdk/credential-provider-ini';
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

/** A line such as `[default]` or `[profile prod]`: the file is an AWS shared credentials / config file. */
const SECTION = /^\s*\[[^\]\r\n]+\]\s*$/m;

export function isProfileFile(text: string): boolean {
  return SECTION.test(text);
}

/**
 * Parses `KEY=VALUE` lines (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optional
 * `AWS_SESSION_TOKEN` and `AWS_DEFAULT_REGION` / `AWS_REGION` / `region`). Keys are case-insensitive;
 * blank lines, `#` comments, an `export ` prefix and quotes around values are allowed, so a shell
 * env file works as is. Unknown keys are ignored. Files with `[profile]` sections are not read here
 * (see readCredentialsFile).
 */
export function parseCredentialsFile(text: string, source: string): FileCredentials {
  if (isProfileFile(text)) throw new UnsatisfiableError(`credentials file ${source} has [profile] sections: it is read by the AWS SDK's own provider`);
  const found: Partial<FileCredentials> = {};
  text.split(/\r?\n/).forEach((rawLine) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
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

/**
 * The credentials in a file: an AWS shared credentials or config file (`[default]`, `[prod]`,
 * `[profile prod]` sections) is read by the SDK's own ini provider, profile `profile` (default
 * `default`), with everything that provider supports (session tokens, `role_arn` + `source_profile`,
 * `credential_process` …); a file of KEY=VALUE lines is parsed as the original ecoware file.
 * A file that cannot be read, or a profile it lacks, is refused (UnsatisfiableError).
 */
export async function readCredentialsFile(path: string, profile?: string): Promise<FileCredentials> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UnsatisfiableError(`cannot read AWS credentials file ${path}: ${(err as Error).message}`);
  }
  if (!isProfileFile(text)) {
    if (profile !== undefined) throw new UnsatisfiableError(`credentials file ${path} has no [${profile}] section (it holds KEY=VALUE lines, which take no profile)`);
    return parseCredentialsFile(text, path);
  }
  const name = profile ?? 'default';
  try {
    // The file serves as both the credentials and the config file, so `[profile x]` sections work too;
    // nothing of ~/.aws is mixed in.
    const identity = await fromIni({ filepath: path, configFilepath: path, profile: name, ignoreCache: true })();
    return { accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey, sessionToken: identity.sessionToken };
  } catch (err) {
    throw new UnsatisfiableError(`credentials file ${path}, profile '${name}': ${(err as Error).message}`);
  }
}
