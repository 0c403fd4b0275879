import { readConfig } from '../src/config';

/** The settings of several daemons on PostgreSQL, read from flags and the environment. */
describe('readConfig: PostgreSQL settings', () => {
  it('reads the database URL, lease and advertised URL from flags or the environment, with defaults', () => {
    expect(readConfig({}, {})).toMatchObject({ databaseUrl: undefined, leaseS: 15, advertiseUrl: undefined });
    expect(readConfig({ 'database-url': 'postgres://u:p@db:5433/e', 'lease-s': '5', 'advertise-url': 'http://exec-1:8000/' }, {}))
      .toMatchObject({ databaseUrl: 'postgres://u:p@db:5433/e', leaseS: 5, advertiseUrl: 'http://exec-1:8000' });
    expect(readConfig({}, { ECOWARE_DATABASE_URL: 'postgresql://db/e', ECOWARE_LEASE_S: '30' })).toMatchObject({ databaseUrl: 'postgresql://db/e', leaseS: 30 });
  });

  it('refuses a URL that is not PostgreSQL, without repeating it, and a lease out of range', () => {
    expect(() => readConfig({ 'database-url': 'mysql://u:secret@db/e' }, {})).toThrow(/database-url.*mysql:/s);
    expect(() => readConfig({ 'database-url': 'not a url:secret' }, {})).toThrow(expect.objectContaining({ code: 'invalid', message: expect.not.stringContaining('secret') }));
    expect(() => readConfig({ 'lease-s': '0' }, {})).toThrow(/lease-s/);
    expect(() => readConfig({ 'advertise-url': 'ftp://x' }, {})).toThrow(/advertise-url/);
  });
});
