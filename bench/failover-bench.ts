import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { startPostgres } from '../test/support/postgres';

/**
 * `npm run bench:failover`: how long the leader's lease takes to change hands on a private
 * PostgreSQL server (scripts/ensure-postgres.sh), between two processes that hold only the lease
 * (src/drivers/postgres/pg-lease.ts, as the daemon uses it):
 *
 * - SIGTERM of the leader (it releases the lease and NOTIFYs): from the signal to the standby leading;
 * - kill -9 of the leader: from the kill to the standby leading (bounded by lease + one renewal period).
 *
 * BENCH_FAILOVER_N runs of each (default 20); BENCH_FAILOVER_LEASE_S is the lease (default 15; the
 * kill -9 runs take about that long each).
 */
const N = Number(process.env.BENCH_FAILOVER_N ?? 20);
const LEASE_S = Number(process.env.BENCH_FAILOVER_LEASE_S ?? 15);
const STATE = path.join(__dirname, '..', 'src', 'drivers', 'postgres', 'pg-state.js');

const CHILD = `
  const { openPostgresState } = require(${JSON.stringify(STATE)});
  (async () => {
    const state = await openPostgresState(process.env.URL, { leaseS: Number(process.env.LEASE_S) });
    state.lease.onLeading(() => console.log('leading ' + Date.now()));
    process.on('SIGTERM', async () => { await state.close(); process.exit(0); });
    state.lease.start();
    console.log('started');
  })();`;

function contender(url: string): { child: ChildProcess; next: (word: string) => Promise<number> } {
  const child = spawn(process.execPath, ['-e', CHILD], { env: { ...process.env, URL: url, LEASE_S: String(LEASE_S) }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const waiting: { word: string; resolve: (t: number) => void }[] = [];
  child.stdout!.on('data', (d) => {
    out += d;
    for (const w of [...waiting]) {
      const m = new RegExp(`${w.word}(?: (\\d+))?`).exec(out);
      if (m) { waiting.splice(waiting.indexOf(w), 1); w.resolve(Number(m[1] ?? Date.now())); }
    }
  });
  return { child, next: (word) => new Promise((resolve) => waiting.push({ word, resolve })) };
}

const stats = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return `median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms (n=${xs.length})`;
};

async function run(url: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<number> {
  const a = contender(url);
  await a.next('leading');
  const b = contender(url);
  await b.next('started');
  await new Promise((r) => setTimeout(r, 300));
  const taken = b.next('leading');
  const t0 = Date.now();
  a.child.kill(signal);
  const t1 = await taken;
  b.child.kill('SIGTERM');
  await new Promise((r) => b.child.once('exit', r));
  return t1 - t0;
}

async function main(): Promise<void> {
  const postgres = await startPostgres();
  const url = postgres.url;
  try {
    const term: number[] = [];
    const kill: number[] = [];
    for (let i = 0; i < N; i++) term.push(await run(url, 'SIGTERM'));
    console.log(`failover after SIGTERM of the leader: ${stats(term)}`);
    for (let i = 0; i < N; i++) kill.push(await run(url, 'SIGKILL'));
    console.log(`failover after kill -9 of the leader (lease ${LEASE_S} s): ${stats(kill)}`);
  } finally {
    await postgres.remove();
  }
}

void main();
