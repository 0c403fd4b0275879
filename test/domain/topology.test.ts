import { readFileSync } from 'fs';
import { ValidationError } from '../../src/domain/errors';
import { referenceFile } from '../support/reference';
import { dependencyLevels, parseEntrypointParams, parsePort } from '../../src/domain/topology';
import { parseTopology } from '../../src/schema/topology-file';

const reference = JSON.parse(readFileSync(referenceFile('ecoware-topology.json'), 'utf8'));

describe('parseTopology', () => {
  it('accepts the ecoware-executor example topology as is', () => {
    const t = parseTopology(reference);
    expect(t.infrastructure.cloud).toMatchObject({ type: 'aws', autoscalingGroupName: 'monolithic-ex-2cpu', credentialsFile: '/ecoware/credentials.conf' });
    expect(t.infrastructure.vmSize).toEqual({ cpu_cores: 2, mem_units: 8 });
    expect(t.infrastructure.memUnitMb).toBe(512);
    expect([...t.tiers.keys()]).toEqual(['rubis_loadbalancer', 'rubis_app_server', 'rubis_db', 'pwitter_app_server', 'pwitter_db']);
    expect(t.tiers.get('rubis_db')).toMatchObject({ maxNode: 1, onNodeScale: { kind: 'script', name: 'mysql_hook.sh' }, ports: [{ hostPort: 8081, containerPort: 80, protocol: 'tcp' }] });
    expect(t.tiers.get('rubis_loadbalancer')!.dependsOn).toEqual(['rubis_app_server']);
    expect(dependencyLevels(t).get('rubis_loadbalancer')).toBe(2);
  });

  it('without a cloud driver runs on one local node', () => {
    const t = parseTopology({ infrastructure: { cpu_cores: 1, mem_units: 1 }, apps: [] }, { localDocker: 'unix:///x.sock' });
    expect(t.infrastructure.cloud).toEqual({ type: 'static', nodes: [{ name: 'local', docker: 'unix:///x.sock' }] });
  });

  it.each([
    [{ infrastructure: { cpu_cores: 1, mem_units: 1, max_vms: 0 }, apps: [] }, 'infrastructure.max_vms'],
    [{ infrastructure: { cpu_cores: 1, mem_units: 1, cloud_driver: { type: 'gcp' } }, apps: [] }, 'infrastructure.cloud_driver.type'],
    [{ infrastructure: { cpu_cores: 1, mem_units: 1, cloud_driver: { type: 'static', nodes: [{ name: 'a', docker: 'http//x' }] } }, apps: [] }, 'infrastructure.cloud_driver.nodes[0].docker'],
    [{ infrastructure: { cpu_cores: 1, mem_units: 1 }, apps: {} }, 'apps'],
    [{ infrastructure: { cpu_cores: 1, mem_units: 1 }, apps: [{ name: 'a', tiers: { t: { docker_image: 'i', environment: { A: {} } } } }] }, 'apps[0].tiers.t.environment.A'],
    [{ infrastructure: { cpu_cores: 1, mem_units: 1 }, apps: [{ name: 'a', tiers: { 'b/c': { docker_image: 'i' } } }] }, 'apps[0].tiers.b/c'],
    [{ infrastructure: { cpu_cores: 1, mem_units: 1 }, apps: [{ name: 'a', tiers: { t: { docker_image: '../../x' } } }] }, 'apps[0].tiers.t.docker_image'],
    [{ infrastructure: { cpu_cores: 1, mem_units: 1 }, apps: [{ name: 'a', tiers: { t: { docker_image: 'a\u0000b' } } }] }, 'apps[0].tiers.t.docker_image'],
    [{ infrastructure: { cpu_cores: 1, mem_units: 1 }, apps: [{ name: 'a', tiers: { t: { docker_image: 'i', on_dependency_scale: 'x/y.sh' } } }] }, 'apps[0].tiers.t.on_dependency_scale'],
  ])('refuses %j naming %s', (doc, field) => {
    try {
      parseTopology(doc);
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).field).toBe(field);
    }
  });

  it('names the cycle it refuses', () => {
    expect(() => parseTopology({
      infrastructure: { cpu_cores: 1, mem_units: 1 },
      apps: [{ name: 'a', tiers: { x: { docker_image: 'i', depends_on: ['y'] }, y: { docker_image: 'i', depends_on: ['z'] }, z: { docker_image: 'i', depends_on: ['x'] } } }],
    })).toThrow(/cycle in app 'a': x -> y -> z -> x/);
  });
});

describe('parseEntrypointParams', () => {
  it.each([
    ['--flag value', ['--flag', 'value']],
    ['/opt/run.sh --host=0.0.0.0  --bootdir=/opt/', ['/opt/run.sh', '--host=0.0.0.0', '--bootdir=/opt/']],
    [`sh -c 'echo "$HOME" ; ls'`, ['sh', '-c', 'echo "$HOME" ; ls']],
    ['a\\ b "c d" \'\'', ['a b', 'c d', '']],
  ])('splits %s without a shell', (input, args) => {
    expect(parseEntrypointParams(input, 'f')).toEqual(args);
  });

  it('refuses an unterminated quote', () => {
    expect(() => parseEntrypointParams('echo "x', 'f')).toThrow(/unterminated/);
  });
});

describe('parsePort', () => {
  it.each([
    ['8080:80', { hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    ['127.0.0.1:53:53/udp', { hostIp: '127.0.0.1', hostPort: 53, containerPort: 53, protocol: 'udp' }],
    ['80', { hostPort: 80, containerPort: 80, protocol: 'tcp' }],
  ])('reads %s', (spec, mapping) => {
    expect(parsePort(spec, 'p')).toMatchObject(mapping);
  });

  it.each(['80:', 'a:b', '70000:80'])('refuses %s', (spec) => {
    expect(() => parsePort(spec, 'p')).toThrow(ValidationError);
  });
});
