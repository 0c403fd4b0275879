import { parseSystemTier } from '../../src/schema/system-tier-block';

const FIELD = 'apps[0].tiers.web.system';
const block = (extra: Record<string, unknown>) => ({ sid: 'a'.repeat(32), namespace: 'ns', service: 'web', network: 'shop', ...extra });
const refusal = (value: unknown): string => {
  try {
    parseSystemTier(value, FIELD);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('accepted');
};

describe("a tier's system block read through its schema", () => {
  it('names the field of each mistake', () => {
    expect(refusal(block({ sid: 'abc' }))).toBe(`${FIELD}.sid: must be 32 hex digits`);
    expect(refusal(block({ publish: ['80/tcp', '80'] }))).toBe(`${FIELD}.publish[1]: '80' is not PORT/tcp or PORT/udp`);
    expect(refusal(block({ mounts: [{ target: '/data', type: 'tmpfs' }] }))).toBe(`${FIELD}.mounts[0].type: must be 'volume' or 'bind'`);
    expect(refusal(block({ mounts: [{ target: '/data', type: 'volume', volume: 'v', external: 'yes' }] }))).toBe(`${FIELD}.mounts[0].external: must be true or false`);
    expect(refusal(block({ restart: { policy: 'sometimes' } }))).toBe(`${FIELD}.restart.policy: must be one of no, always, on-failure, unless-stopped`);
    expect(refusal(block({ healthcheck: { test: ['CMD', 'true'], retries: 0 } }))).toBe(`${FIELD}.healthcheck.retries: must be at least 1`);
    expect(refusal(block({ network: undefined }))).toBe(`${FIELD}.network: must be a non-empty string`);
  });

  it('reads a whole block into the tier', () => {
    expect(parseSystemTier(block({
      publish: ['80/tcp'], labels: { tier: 1 }, wait_healthy: ['db'], restart: { policy: 'on-failure', max_retries: 2 },
      healthcheck: { test: ['CMD', 'true'], interval_ms: 500 },
      mounts: [{ type: 'bind', source: '/srv', target: '/srv', read_only: true }, { type: 'volume', volume: 'shop_data', target: '/data', driver_opts: { type: 'nfs' } }],
    }), FIELD)).toEqual({
      sid: 'a'.repeat(32), namespace: 'ns', service: 'web', network: 'shop', entrypoint: undefined,
      healthcheck: { test: ['CMD', 'true'], intervalMs: 500, timeoutMs: undefined, startPeriodMs: undefined, startIntervalMs: undefined, retries: undefined },
      publish: [{ containerPort: 80, protocol: 'tcp' }], labels: { tier: '1' }, waitHealthy: ['db'], restart: { policy: 'on-failure', maxRetries: 2 },
      mounts: [
        { type: 'bind', source: '/srv', target: '/srv', readOnly: true },
        { type: 'volume', volume: 'shop_data', target: '/data', readOnly: false, driver: undefined, driverOpts: { type: 'nfs' }, external: false },
      ],
    });
    expect(parseSystemTier(null, FIELD)).toBeUndefined();
  });
});
