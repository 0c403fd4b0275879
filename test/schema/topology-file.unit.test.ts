import { parseTopology } from '../../src/schema/topology-file';

const apps = [{ name: 'shop', tiers: { web: { docker_image: 'busybox' } } }];
const withInfrastructure = (extra: Record<string, unknown>) => ({ infrastructure: { cpu_cores: 2, mem_units: 8, ...extra }, apps });
const refusal = (document: unknown): string => {
  try {
    parseTopology(document);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('accepted');
};

describe("the topology's infrastructure block read through its schema", () => {
  it('names the field of each mistake', () => {
    expect(refusal({ apps })).toBe('infrastructure: must be an object');
    expect(refusal(withInfrastructure({ cpu_cores: 1.5 }))).toBe('infrastructure.cpu_cores: must be a whole number');
    expect(refusal(withInfrastructure({ on_failure: 'retry' }))).toBe("infrastructure.on_failure: must be 'stop' or 'rollback'");
    expect(refusal(withInfrastructure({ hooks_refresh: 'hourly' })))
      .toBe("infrastructure.hooks_refresh: 'hourly' is not a cron expression the refresh schedule can run (e.g. '*/5 * * * *')");
    expect(refusal(withInfrastructure({ hook_timeout_s: 0 }))).toBe('infrastructure.hook_timeout_s: must be a positive number of seconds, at most 86400');
    expect(refusal(withInfrastructure({ mem_unit_mb: 2 }))).toBe('infrastructure.mem_unit_mb: must be at least 4');
  });

  it('fills the defaults and converts seconds', () => {
    expect(parseTopology(withInfrastructure({ hook_timeout_s: 1.5, on_hook_failure: null })).infrastructure).toMatchObject({
      vmSize: { cpu_cores: 2, mem_units: 8 }, memUnitMb: 512, hookTimeoutMs: 1500, onHookFailure: 'stop', onFailure: 'stop', hooksRefresh: '*/5 * * * *',
    });
  });
});

describe("the topology's AWS cloud block read through its schema", () => {
  const aws = (extra: Record<string, unknown>) => withInfrastructure({ cloud_driver: { autoscaling_groupname: 'workers', ...extra } });

  it('names the field of each mistake', () => {
    expect(refusal(aws({ address: 'elastic' }))).toBe("infrastructure.cloud_driver.address: must be 'private' or 'public'");
    expect(refusal(aws({ docker_port: 0 }))).toBe('infrastructure.cloud_driver.docker_port: must be at least 1');
    expect(refusal(aws({ allow_raise_max_size: 'yes' }))).toBe('infrastructure.cloud_driver.allow_raise_max_size: must be true or false');
    expect(refusal(aws({ autoscaling_groupname: '' }))).toBe('infrastructure.cloud_driver.autoscaling_groupname: must be a non-empty string');
  });

  it('fills the defaults: the TLS port when a certificate is given, ten minutes for an instance', () => {
    expect(parseTopology(aws({ docker_cert_path: '/certs' })).infrastructure.cloud).toMatchObject({
      type: 'aws', autoscalingGroupName: 'workers', addressType: 'private', dockerPort: 2376, allowRaiseMaxSize: false, instanceReadyTimeoutMs: 600_000,
    });
  });
});

describe("the nodes of a static pool read through their schema", () => {
  const pool = (...nodes: unknown[]) => withInfrastructure({ cloud_driver: { type: 'static', nodes } });
  const node = (extra: Record<string, unknown>) => ({ name: 'node1', docker: 'tcp://127.0.0.1:2375', ...extra });

  it('names the field of each mistake, the name and the engine before the sizes', () => {
    expect(refusal(pool(node({ name: 'bad name' })))).toBe("infrastructure.cloud_driver.nodes[0].name: 'bad name' is not a valid name ([A-Za-z0-9][A-Za-z0-9_.-]*)");
    expect(refusal(pool(node({}), node({ cpu_cores: 0 })))).toBe("infrastructure.cloud_driver.nodes[1].name: duplicate node name 'node1'");
    expect(refusal(pool(node({ docker: 'docker.local', cpu_cores: 0 }))))
      .toBe("infrastructure.cloud_driver.nodes[0].docker: 'docker.local' is not a Docker endpoint (unix:///path or tcp://host:port)");
    expect(refusal(pool(node({ mem_units: 'x' })))).toBe('infrastructure.cloud_driver.nodes[0].mem_units: must be a whole number');
  });

  it('reads a node whole', () => {
    expect(parseTopology(pool(node({ address: '10.0.0.5', cpu_cores: 4, mem_units: 16, labels: { zone: 'a' } }))).infrastructure.cloud).toEqual({
      type: 'static',
      nodes: [{ name: 'node1', docker: 'tcp://127.0.0.1:2375', address: '10.0.0.5', cpu_cores: 4, mem_units: 16, labels: { zone: 'a' } }],
    });
  });
});
