import { UnsatisfiableError } from '../../src/domain/errors';
import { parseCredentialsFile } from '../../src/drivers/aws/aws-credentials-file';

describe('parseCredentialsFile', () => {
  it.each([
    ['ecoware KEY=VALUE lines', 'AWS_ACCESS_KEY_ID=AKID\nAWS_SECRET_ACCESS_KEY=secret\n', { accessKeyId: 'AKID', secretAccessKey: 'secret' }],
    ['a session token and a region', 'AWS_ACCESS_KEY_ID=AKID\nAWS_SECRET_ACCESS_KEY=secret\nAWS_SESSION_TOKEN=tok\nAWS_DEFAULT_REGION=eu-west-1\n',
      { accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: 'tok', region: 'eu-west-1' }],
    ['a shell env file: comments, export, quotes, CRLF', '# prod\r\nexport AWS_ACCESS_KEY_ID="AKID"\r\n\r\nexport AWS_SECRET_ACCESS_KEY=\'se=cret\'\r\nAWS_REGION=us-west-2\r\n',
      { accessKeyId: 'AKID', secretAccessKey: 'se=cret', region: 'us-west-2' }],
    ['a shared credentials file section', '[default]\naws_access_key_id = AKID\naws_secret_access_key = secret\nregion = ap-south-1\n',
      { accessKeyId: 'AKID', secretAccessKey: 'secret', region: 'ap-south-1' }],
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
