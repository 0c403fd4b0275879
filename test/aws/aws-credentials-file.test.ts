import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnsatisfiableError } from '../../src/domain/errors';
import { parseCredentialsFile, readCredentialsFile } from '../../src/drivers/aws/aws-credentials-file';

describe('parseCredentialsFile', () => {
  it.each([
    ['ecoware KEY=VALUE lines', 'AWS_ACCESS_KEY_ID=AKID\nAWS_SECRET_ACCESS_KEY=secret\n', { accessKeyId: 'AKID', secretAccessKey: 'secret' }],
    ['a session token and a region', 'AWS_ACCESS_KEY_ID=AKID\nAWS_SECRET_ACCESS_KEY=secret\nAWS_SESSION_TOKEN=tok\nAWS_DEFAULT_REGION=eu-west-1\n',
      { accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: 'tok', region: 'eu-west-1' }],
    ['a shell env file: comments, export, quotes, CRLF', '# prod\r\nexport AWS_ACCESS_KEY_ID="AKID"\r\n\r\nexport AWS_SECRET_ACCESS_KEY=\'se=cret\'\r\nAWS_REGION=us-west-2\r\n',
      { accessKeyId: 'AKID', secretAccessKey: 'se=cret', region: 'us-west-2' }],
    ['unknown keys ignored', 'AWS_ACCESS_KEY_ID=AKID\nOTHER=1\nAWS_SECRET_ACCESS_KEY=secret\n', { accessKeyId: 'AKID', secretAccessKey: 'secret' }],
  ])('reads %s', (_name, text, expected) => {
    expect(parseCredentialsFile(text, 'creds.conf')).toEqual(expected);
  });

  it.each([
    ['no secret key', 'AWS_ACCESS_KEY_ID=AKID\n'],
    ['an empty access key', 'AWS_ACCESS_KEY_ID=\nAWS_SECRET_ACCESS_KEY=secret\n'],
    ['an empty file', ''],
  ])('refuses %s, naming the file', (_name, text) => {
    expect(() => parseCredentialsFile(text, '/etc/ecoware/creds.conf')).toThrow(UnsatisfiableError);
    expect(() => parseCredentialsFile(text, '/etc/ecoware/creds.conf')).toThrow(/\/etc\/ecoware\/creds\.conf must set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  });
});

describe('readCredentialsFile', () => {
  let dir: string;
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'ecoware-creds-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const twoProfiles = [
    '[default]', 'aws_access_key_id = AKIDDEFAULT', 'aws_secret_access_key = secretdefault', 'aws_session_token = tokendefault', '',
    '[prod]', 'aws_access_key_id = AKIDPROD', 'aws_secret_access_key = secretprod', '',
  ].join('\n');

  it("reads one profile of a shared credentials file, never another profile's keys", async () => {
    const path = file('credentials', twoProfiles);
    expect(await readCredentialsFile(path, 'prod')).toEqual({ accessKeyId: 'AKIDPROD', secretAccessKey: 'secretprod', sessionToken: undefined });
    expect(await readCredentialsFile(path)).toEqual({ accessKeyId: 'AKIDDEFAULT', secretAccessKey: 'secretdefault', sessionToken: 'tokendefault' });
  });

  it('reads `[profile name]` sections of a config-style file', async () => {
    const path = file('config', '[profile staging]\naws_access_key_id = AKIDSTAGING\naws_secret_access_key = secretstaging\n');
    expect(await readCredentialsFile(path, 'staging')).toMatchObject({ accessKeyId: 'AKIDSTAGING', secretAccessKey: 'secretstaging' });
  });

  it('refuses a profile the file lacks, naming the file and the profile', async () => {
    const path = file('credentials', twoProfiles);
    const error = await readCredentialsFile(path, 'staging').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsatisfiableError);
    expect((error as Error).message).toContain(`credentials file ${path}, profile 'staging'`);
  });

  it('reads KEY=VALUE files as before, and refuses a profile for them', async () => {
    const path = file('creds.env', 'AWS_ACCESS_KEY_ID=AKID\nAWS_SECRET_ACCESS_KEY=secret\nAWS_DEFAULT_REGION=eu-west-1\n');
    expect(await readCredentialsFile(path)).toEqual({ accessKeyId: 'AKID', secretAccessKey: 'secret', region: 'eu-west-1' });
    await expect(readCredentialsFile(path, 'prod')).rejects.toThrow(/has no \[prod\] section/);
  });

  it('refuses a file that cannot be read', async () => {
    await expect(readCredentialsFile(join(dir, 'missing'))).rejects.toThrow(UnsatisfiableError);
  });
});
