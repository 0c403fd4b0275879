import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { DaemonClient } from '../../src/cli/daemon-client';

/** The command line against a daemon that is still starting: it asks again after Retry-After. */
describe('DaemonClient and a starting daemon', () => {
  let server: http.Server;
  let answers: { status: number; body: unknown; headers?: Record<string, string> }[];
  let asked: number;
  beforeEach(async () => {
    asked = 0;
    server = http.createServer((req, res) => {
      const next = answers[Math.min(asked++, answers.length - 1)];
      res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
      res.end(JSON.stringify(next.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => { await new Promise((resolve) => server.close(resolve)); });
  const url = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  it('waits through 503 starting and returns the answer that follows', async () => {
    answers = [
      { status: 503, body: { error: 'the daemon is starting: its modules are loading', code: 'starting' }, headers: { 'retry-after': '1' } },
      { status: 503, body: { error: 'the daemon is starting: the persisted topology is being restored', code: 'starting' }, headers: { 'retry-after': '1' } },
      { status: 200, body: { apps: [] } },
    ];
    const started = Date.now();
    expect(await new DaemonClient(url()).call('GET', '/api/topology')).toEqual({ apps: [] });
    expect(asked).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  });

  it('does not ask again after any other 503', async () => {
    answers = [{ status: 503, body: { error: 'the daemon is shutting down and takes no more plans', code: 'shutting_down' }, headers: { 'retry-after': '30' } }];
    await expect(new DaemonClient(url()).call('PUT', '/api/execute', {})).rejects.toThrow(/shutting down/);
    expect(asked).toBe(1);
  });
});
