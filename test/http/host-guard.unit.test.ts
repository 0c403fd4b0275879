import express from 'express';
import request from 'supertest';
import { readHostNames } from '../../src/config';
import { hostGuard, hostNameOf } from '../../src/http/host-guard';

describe('the Host guard of a daemon without tokens (DNS rebinding)', () => {
  it.each([
    ['127.0.0.1:8000', '127.0.0.1'],
    ['localhost', 'localhost'],
    ['LocalHost.:8000', 'localhost'],
    ['[::1]:8000', '::1'],
    ['[::1]', '::1'],
    ['::1', '::1'],
    ['attacker.example:8000', 'attacker.example'],
  ])('reads the host name of %p as %p', (header, name) => {
    expect(hostNameOf(header)).toBe(name);
  });

  const app = (allowed: string[]) => {
    const a = express();
    a.use(hostGuard(allowed));
    a.get('/api/topology', (_req, res) => { res.json({ ok: true }); });
    return a;
  };

  it.each([
    ['127.0.0.1:8000', 200], ['127.0.0.42', 200], ['localhost:8000', 200], ['[::1]:8000', 200],
    ['attacker.example', 421], ['attacker.example:8000', 421], ['127.0.0.1.attacker.example', 421], ['localhost.attacker.example', 421],
    ['ecoware.internal:8000', 200], ['10.0.0.5:8000', 421],
  ])('Host %p answers %i', async (host, status) => {
    const res = await request(app(['ecoware.internal'])).get('/api/topology').set('Host', host);
    expect(res.status).toBe(status);
    if (status === 421) expect(res.body).toMatchObject({ code: 'misdirected', error: expect.stringContaining(`Host '${host}'`) });
  });

  it('answers any name when told *', async () => {
    expect((await request(app(['*'])).get('/api/topology').set('Host', 'attacker.example')).status).toBe(200);
  });

  it('reads --allowed-host as a comma-separated list and refuses what is no host name', () => {
    expect(readHostNames('ecoware.internal, 10.0.0.5,[::1],*')).toEqual(['ecoware.internal', '10.0.0.5', '[::1]', '*']);
    expect(readHostNames(undefined)).toEqual([]);
    expect(() => readHostNames('http://x')).toThrow(/allowed-host: 'http:\/\/x' is not a host name/);
    expect(() => readHostNames('a b')).toThrow(/allowed-host/);
  });
});
