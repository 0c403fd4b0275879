import { mergePlan } from '../../src/domain/plan';
import { parseFlatPlan, parseNestedPlan } from '../../src/http/plan-request';
import { parseTopology } from '../../src/schema/topology-file';

const topology = parseTopology({
  infrastructure: { cpu_cores: 2, mem_units: 8 },
  apps: [
    { name: 'rubis', tiers: { app_server: { docker_image: 'i' }, db: { docker_image: 'i' } } },
    { name: 'pwitter', tiers: { app_server: { docker_image: 'i' }, web: { docker_image: 'i' } } },
  ],
});

describe('plans', () => {
  it('reads nested plans into flat tier names', () => {
    expect(parseNestedPlan({ rubis: { db: { cpu_cores: 1, mem_units: 2 } }, pwitter: { web: { cpu_cores: 6.0, mem_units: 1 } } }, topology))
      .toEqual({ rubis_db: { cpu_cores: 1, mem_units: 2 }, pwitter_web: { cpu_cores: 6, mem_units: 1 } });
  });

  it('resolves bare tier names of flat plans only when unique', () => {
    expect(parseFlatPlan({ db: { cpu_cores: 1, mem_units: 1 }, pwitter_app_server: { cpu_cores: 1, mem_units: 1 } }, topology))
      .toEqual({ rubis_db: { cpu_cores: 1, mem_units: 1 }, pwitter_app_server: { cpu_cores: 1, mem_units: 1 } });
    expect(() => parseFlatPlan({ app_server: { cpu_cores: 1, mem_units: 1 } }, topology)).toThrow(/ambiguous.*rubis_app_server, pwitter_app_server/);
  });

  it('keeps tiers a partial plan leaves out, and removes tiers planned at zero', () => {
    const current = { rubis_db: { cpu_cores: 1, mem_units: 2 }, rubis_app_server: { cpu_cores: 2, mem_units: 2 } };
    expect(mergePlan({ rubis_app_server: { cpu_cores: 0, mem_units: 0 }, pwitter_web: { cpu_cores: 1, mem_units: 1 } }, current))
      .toEqual({ rubis_db: { cpu_cores: 1, mem_units: 2 }, pwitter_web: { cpu_cores: 1, mem_units: 1 } });
    expect(mergePlan({}, current)).toEqual(current);
  });
});
