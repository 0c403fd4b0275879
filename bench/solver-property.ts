import { warmUpAllocator } from '../src/allocator';
import { checkAllocatorProperties } from '../test/support/allocation-properties';

/**
 * The allocator's property check at benchmark size (the test suite runs a smaller one): by default
 * 7000 seeded instances over seven families up to 12 VMs × 8 tiers, CBC on every 5th small one.
 * BENCH_PROPERTY_INSTANCES, BENCH_PROPERTY_LIMIT_MS, BENCH_PROPERTY_SLACK_MS, BENCH_PROPERTY_CBC_EVERY change it;
 * BENCH_PROPERTY_THREADS gives the allocator that many solver threads (default 1).
 */
async function main(): Promise<void> {
  const env = process.env;
  await warmUpAllocator();
  const started = Date.now();
  const report = await checkAllocatorProperties({
    instances: Number(env.BENCH_PROPERTY_INSTANCES ?? 7000),
    timeLimitMs: Number(env.BENCH_PROPERTY_LIMIT_MS ?? 1000),
    slackMs: Number(env.BENCH_PROPERTY_SLACK_MS ?? 250),
    cbcEvery: Number(env.BENCH_PROPERTY_CBC_EVERY ?? 5),
    size: { maxVms: 12, maxTiers: 8 },
    allocator: { solverThreads: Number(env.BENCH_PROPERTY_THREADS ?? 1) },
    log: (line) => console.error(line),
  });
  console.log(JSON.stringify({ ...report, seconds: Math.round((Date.now() - started) / 1000) }, null, 2));
  if (report.failures.length > 0) process.exit(1);
}

void main();
