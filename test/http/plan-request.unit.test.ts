import { parseFlatPlan, parseNestedPlan } from '../../src/http/plan-request';
import { parseTopology } from '../../src/schema/topology-file';

const topology = parseTopology({
  infrastructure: { cpu_cores: 2, mem_units: 8 },
  apps: [{ name: 'shop', tiers: { web: { docker_image: 'i' }, db: { docker_image: 'i' } } }],
});

const refusal = (read: () => unknown): string => {
  try {
    read();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('accepted');
};

describe('plan requests', () => {
  it('name the field of each mistake in a tier\'s resources', () => {
    expect(refusal(() => parseNestedPlan({ shop: { web: { cpu_cores: 1, mem_units: 2, disk: 1 } } }, topology)))
      .toBe('shop.web.disk: unknown field (expected cpu_cores and mem_units)');
    expect(refusal(() => parseNestedPlan({ shop: { web: { cpu_cores: 'two' } } }, topology))).toBe('shop.web.mem_units: is required');
    expect(refusal(() => parseFlatPlan({ shop_web: { cpu_cores: 1.5, mem_units: 2 } }, topology))).toBe('shop_web.cpu_cores: must be a whole number');
    expect(refusal(() => parseFlatPlan({ 'shop-db': { cpu_cores: 1, mem_units: -2 } }, topology))).toBe('shop-db.mem_units: must be at least 0');
    expect(refusal(() => parseNestedPlan({ shop: [] }, topology))).toBe('shop: must be an object');
    expect(refusal(() => parseNestedPlan('plan', topology))).toBe('must be an object');
  });

  it('keep the rule across fields: both zero or both positive', () => {
    expect(refusal(() => parseNestedPlan({ shop: { db: { cpu_cores: 0, mem_units: 3 } } }, topology)))
      .toBe('shop.db: cpu_cores and mem_units must both be zero (remove the tier) or both positive');
    expect(parseFlatPlan({ web: { cpu_cores: 6.0, mem_units: 1 }, shop_db: { cpu_cores: 0, mem_units: 0 } }, topology))
      .toEqual({ shop_web: { cpu_cores: 6, mem_units: 1 }, shop_db: { cpu_cores: 0, mem_units: 0 } });
  });
});
