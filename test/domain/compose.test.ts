import { parseCompose, byteSize, duration } from '../../src/schema/compose/compose-file';
import { interpolate, parseDotEnv } from '../../src/schema/compose/interpolate';
import { composeToApp } from '../../src/schema/compose/system-app';
import { ValidationError } from '../../src/domain/errors';
import { parseTopology } from '../../src/schema/topology-file';
import { refusal } from '../support/errors';

const SID = '0123456789abcdef0123456789abcdef';

describe('interpolate (Compose rules)', () => {
  const env = { SET: 'v', EMPTY: '', TAG: 'latest', NESTED: 'n' };
  it.each([
    ['plain', 'plain'],
    ['$SET', 'v'],
    ['${SET}', 'v'],
    ['a${SET}b$SET.c', 'avbv.c'],
    ['${UNSET:-d}', 'd'],
    ['${EMPTY:-d}', 'd'],
    ['${UNSET-d}', 'd'],
    ['${EMPTY-d}', ''],
    ['${SET:-d}', 'v'],
    ['${SET:+r}', 'r'],
    ['${EMPTY:+r}', ''],
    ['${EMPTY+r}', 'r'],
    ['${UNSET+r}', ''],
    ['$$', '$'],
    ['$$SET', '$SET'],
    ['$${SET}', '${SET}'],
    ['${UNSET:-${NESTED}}', 'n'],
    ['${UNSET:-a-b c}', 'a-b c'],
    ['busybox:${TAG:-1}', 'busybox:latest'],
    ['${SET?never}', 'v'],
    ['${EMPTY?m}', ''],
  ])('%s -> %s', (template, expected) => {
    expect(interpolate(template, env, 'f').value).toBe(expected);
  });

  it('reports unset variables and uses an empty string', () => {
    expect(interpolate('x${NOPE}y$NOPE', {}, 'f')).toEqual({ value: 'xy', unset: ['NOPE'] });
  });

  it.each([
    ['${UNSET:?must be set}', 'required variable UNSET is missing a value: must be set'],
    ['${EMPTY:?no empty}', 'required variable EMPTY is missing a value: no empty'],
    ['${UNSET?}', 'required variable UNSET is missing a value'],
    ['${SET/a/b}', 'invalid interpolation format'],
    ['${}', 'invalid interpolation format'],
    ['cost $5', 'invalid interpolation format'],
    ['end $', 'invalid interpolation format'],
    ['${SET', 'invalid interpolation format'],
  ])('%s is refused: %s', (template, message) => {
    const e = refusal(() => interpolate(template, env, 'services.web.image'));
    expect(e.field).toBe('services.web.image');
    expect(e.message).toContain(message);
  });
});

describe('parseDotEnv', () => {
  it('reads .env text as Compose does', () => {
    const text = [
      '# a comment',
      'A=1',
      'export B = two words # comment',
      "C='$A literal'",
      'D="${A}-x\\n"',
      'E=$A$$',
      'F',
      'G=',
      'H="multi',
      'line"',
      'I=a#b',
    ].join('\n');
    expect(parseDotEnv(text)).toEqual({ A: '1', B: 'two words', C: '$A literal', D: '1-x\n', E: '1$', G: '', H: 'multi\nline', I: 'a#b' });
  });

  it.each([
    ["A='open", 'env:1'],
    ['1A=x', 'env:1'],
    ['A=${B:?needed}', 'env:1'],
  ])('refuses %s naming %s', (text, field) => {
    expect(refusal(() => parseDotEnv(text)).field).toBe(field);
  });
});

describe('units', () => {
  it.each([['10s', 10_000], ['1m30s', 90_000], ['500ms', 500], ['1h', 3_600_000], [2, 2000]])('duration %s', (v, ms) => {
    expect(duration(v, 'f')).toBe(ms);
  });
  it.each([['128M', 128 * 1024 ** 2], ['1g', 1024 ** 3], ['512Mi', 512 * 1024 ** 2], ['64kb', 65536], [1000, 1000], ['1.5g', 1.5 * 1024 ** 3]])('bytes %s', (v, b) => {
    expect(byteSize(v, 'f')).toBe(b);
  });
  it.each(['10', 'x', '1m30'])('%s is no duration', (v) => { expect(() => duration(v, 'f')).toThrow(ValidationError); });
  it.each(['lots', '-1m', '12q'])('%s is no size', (v) => { expect(() => byteSize(v, 'f')).toThrow(ValidationError); });
});

const SHOP = `
name: shop
services:
  db:
    image: ecoware/busybox:latest
    command: ["sh", "-c", "sleep 3; : > /tmp/ready; exec sleep 86400"]
    healthcheck: {test: ["CMD-SHELL", "[ -f /tmp/ready ]"], interval: 1s, retries: 30}
    volumes: ["dbdata:/data"]
    deploy: {resources: {limits: {cpus: "1", memory: 128M}}}
  web:
    image: "ecoware/busybox:\${TAG:-latest}"
    command: httpd -f -p 8080 -h /tmp
    environment: {LITERAL: "$$HOME", FROM_ENV: null}
    ports: ["8080", "127.0.0.1:9000:9001/udp", {target: 7000}]
    depends_on: {db: {condition: service_healthy}}
    restart: on-failure:3
    labels: [team=a]
    deploy: {replicas: 2, resources: {limits: {cpus: "1.5", memory: 300M}}}
    x-ecoware: {on_node_scale: record_hook.sh}
volumes: {dbdata: {}}
`;

describe('parseCompose', () => {
  it('reads the supported keys, interpolated', () => {
    const file = parseCompose(SHOP, { env: { TAG: 'v2', FROM_ENV: 'yes' } });
    expect(file.name).toBe('shop');
    expect(file.services.map((s) => s.name)).toEqual(['db', 'web']);
    const [db, web] = file.services;
    expect(db).toMatchObject({
      image: 'ecoware/busybox:latest',
      command: ['sh', '-c', 'sleep 3; : > /tmp/ready; exec sleep 86400'],
      healthcheck: { test: ['CMD-SHELL', '[ -f /tmp/ready ]'], intervalMs: 1000, retries: 30 },
      mounts: [{ type: 'volume', source: 'dbdata', target: '/data', readOnly: false }],
      limits: { cpus: 1, memoryBytes: 128 * 1024 ** 2 },
      replicas: 1,
    });
    expect(web).toMatchObject({
      image: 'ecoware/busybox:v2',
      command: ['httpd', '-f', '-p', '8080', '-h', '/tmp'],
      environment: { LITERAL: '$HOME', FROM_ENV: 'yes' },
      ports: [{ containerPort: 8080, protocol: 'tcp' }, { containerPort: 9001, protocol: 'udp' }, { containerPort: 7000, protocol: 'tcp' }],
      dependsOn: { db: 'service_healthy' },
      restart: { policy: 'on-failure', maxRetries: 3 },
      labels: { team: 'a' },
      replicas: 2,
      ecoware: { onNodeScale: 'record_hook.sh' },
    });
    expect(file.warnings.join('\n')).toContain('services.web.ports[1]: the host part');
  });

  it('accepts the parsed object as well as YAML text, and an obsolete version with a warning', () => {
    const file = parseCompose({ version: '3.8', services: { a: { image: 'x', depends_on: ['b'] }, b: { image: 'y' } } }, { env: {} });
    expect(file.services[0].dependsOn).toEqual({ b: 'service_started' });
    expect(file.warnings).toContain('version: obsolete, ignored');
  });

  it('accepts host paths under the allowed root only', () => {
    const compose = { services: { a: { image: 'x', volumes: ['/srv/data/a:/a:ro'] } } };
    expect(parseCompose(compose, { env: {}, allowBindRoot: '/srv/data' }).services[0].mounts)
      .toEqual([{ type: 'bind', source: '/srv/data/a', target: '/a', readOnly: true }]);
  });

  it('accepts the keys Tycho clients add on the Tycho routes only, with warnings', () => {
    const compose = {
      version: '3.0', security_context: {},
      services: { a: { image: 'x', ext: {}, conn_string: 'c', proxy_rewrite: {}, gitea_integration: true, deploy: { resources: { reservations: { cpus: '1' }, limits: { cpus: '0.5' } } } } },
    };
    const file = parseCompose(compose, { env: {}, tycho: true });
    expect(file.warnings).toEqual(expect.arrayContaining(['security_context: ignored', 'services.a.ext: ignored', 'services.a.deploy.resources.reservations: ignored']));
    expect(refusal(() => parseCompose(compose, { env: {} })).field).toBe('security_context');
  });

  // The bad-file corpus: each is refused naming the path, before anything is created.
  it.each([
    ['unknown key', { services: { web: { image: 'x', bogus: 1 } } }, 'services.web.bogus', 'unknown'],
    ['privileged', { services: { web: { image: 'x', privileged: true } } }, 'services.web.privileged', 'privileged'],
    ['network_mode: host', { services: { web: { image: 'x', network_mode: 'host' } } }, 'services.web.network_mode', 'network_mode'],
    ['missing image', { services: { web: { command: 'x' } } }, 'services.web.image', 'required'],
    ['depends_on to nothing', { services: { web: { image: 'x', depends_on: ['nope'] } } }, 'services.web.depends_on.nope', 'not a service'],
    ['a cycle', { services: { a: { image: 'x', depends_on: ['b'] }, b: { image: 'x', depends_on: { c: {} } }, c: { image: 'x', depends_on: ['a'] } } }, 'services.a.depends_on', 'a -> b -> c -> a'],
    ['self dependency', { services: { a: { image: 'x', depends_on: ['a'] } } }, 'services.a.depends_on.a', 'itself'],
    ['${X:?} unset', { services: { web: { image: 'x:${REQ:?must be set}' } } }, 'services.web.image', 'must be set'],
    ['host path outside the root', { services: { web: { image: 'x', volumes: ['/etc:/host-etc'] } } }, 'services.web.volumes[0]', 'outside the allowed root'],
    ['host path escaping the root', { services: { web: { image: 'x', volumes: ['/srv/data/../../etc:/e'] } } }, 'services.web.volumes[0]', 'outside the allowed root'],
    ['relative host path', { services: { web: { image: 'x', volumes: ['./data:/d'] } } }, 'services.web.volumes[0]', 'absolute'],
    ['undeclared volume', { services: { web: { image: 'x', volumes: ['data:/d'] } } }, 'services.web.volumes[0]', 'not declared'],
    ['anonymous volume', { services: { web: { image: 'x', volumes: ['/d'] } } }, 'services.web.volumes[0]', 'anonymous'],
    ['healthy without healthcheck', { services: { a: { image: 'x' }, b: { image: 'x', depends_on: { a: { condition: 'service_healthy' } } } } }, 'services.b.depends_on.a', 'no healthcheck'],
    ['completed condition', { services: { a: { image: 'x' }, b: { image: 'x', depends_on: { a: { condition: 'service_completed_successfully' } } } } }, 'services.b.depends_on.a.condition', 'not supported'],
    ['build', { services: { web: { build: '.' } } }, 'services.web.build', 'image'],
    ['bad protocol', { services: { web: { image: 'x', ports: ['80/sctp'] } } }, 'services.web.ports[0]', 'not a port'],
    ['container port range', { services: { web: { image: 'x', ports: ['80-81'] } } }, 'services.web.ports[0]', 'ranges'],
    ['bad port', { services: { web: { image: 'x', ports: ['70000'] } } }, 'services.web.ports[0]', '1-65535'],
    ['reservations off Tycho', { services: { web: { image: 'x', deploy: { resources: { reservations: { cpus: 1 } } } } } }, 'services.web.deploy.resources.reservations', 'unknown'],
    ['bad memory', { services: { web: { image: 'x', deploy: { resources: { limits: { memory: 'lots' } } } } } }, 'services.web.deploy.resources.limits.memory', 'memory size'],
    ['zero replicas', { services: { web: { image: 'x', deploy: { replicas: 0 } } } }, 'services.web.deploy.replicas', 'at least 1'],
    ['bad restart', { services: { web: { image: 'x', restart: 'sometimes' } } }, 'services.web.restart', 'on-failure'],
    ['unknown top-level key', { services: { web: { image: 'x' } }, secrets: {} }, 'secrets', 'not supported'],
    ['no services', { services: {} }, 'services', 'at least one'],
    ['bad service name', { services: { 'we/b': { image: 'x' } } }, 'services.we/b', 'valid service name'],
    ['bad project name', { name: 'Shop!', services: { web: { image: 'x' } } }, 'name', 'lower-case'],
    ['unknown x-ecoware key', { services: { web: { image: 'x', 'x-ecoware': { colour: 1 } } } }, 'services.web.x-ecoware.colour', 'unknown'],
    ['bad healthcheck', { services: { web: { image: 'x', healthcheck: { test: ['RUN', 'x'] } } } }, 'services.web.healthcheck.test[0]', 'CMD'],
    ['an image no engine accepts', { services: { web: { image: '../../x' } } }, 'services.web.image', 'not an image reference'],
    ['an image with an upper-case name', { services: { web: { image: 'Ecoware/busybox' } } }, 'services.web.image', 'not an image reference'],
    ['an image with a bad digest', { services: { web: { image: 'busybox@sha256:zz' } } }, 'services.web.image', 'not an image reference'],
    ['a healthcheck interval longer than the engine holds', { services: { web: { image: 'x', healthcheck: { test: ['CMD', 'true'], interval: '999999999h' } } } }, 'services.web.healthcheck.interval', 'longer than 2562047h'],
    ['a healthcheck start_period just past the engine', { services: { web: { image: 'x', healthcheck: { test: ['CMD', 'true'], start_period: '2562048h' } } } }, 'services.web.healthcheck.start_period', 'longer than'],
    ['healthcheck retries of 1e300', { services: { web: { image: 'x', healthcheck: { test: ['CMD', 'true'], retries: 1e300 } } } }, 'services.web.healthcheck.retries', 'at most 2147483647'],
  ])('refuses %s', (_what, compose, field, message) => {
    const e = refusal(() => parseCompose(compose, { env: {}, allowBindRoot: '/srv/data' }));
    expect(e.field).toBe(field);
    expect(e.message).toContain(message);
  });

  it.each([
    ['services: [', 'compose'],
    ['services:\n  a: {image: x}\n  a: {image: y}\n', 'compose'],
    ['- a list', 'compose'],
    [`a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [${Array(9).fill('*a').join(', ')}]\nc: &c [${Array(9).fill('*b').join(', ')}]\nd: &d [${Array(9).fill('*c').join(', ')}]\nservices: {web: {image: x}}\n`, 'compose'],
  ])('refuses invalid YAML %j', (text, field) => {
    expect(refusal(() => parseCompose(text, { env: {} })).field).toBe(field);
  });
});

describe('composeToApp', () => {
  const file = parseCompose(SHOP, { env: {} });
  const system = composeToApp(file, { name: 'shop', sid: SID, namespace: 'team-a' }, 64);

  it('makes the app <name>-<sid> whose tiers are the services', () => {
    expect(system.appName).toBe(`shop-${SID}`);
    expect(Object.keys(system.app.tiers)).toEqual(['db', 'web']);
  });

  it('plans limits rounded up to whole cores and units, times replicas, max_node = replicas', () => {
    // web: 1.5 cores -> 2, 300M -> 5 units of 64 MiB; 2 replicas.
    expect(system.plan).toEqual({ [`shop-${SID}_db`]: { cpu_cores: 1, mem_units: 2 }, [`shop-${SID}_web`]: { cpu_cores: 4, mem_units: 10 } });
    expect(system.app.tiers.web.max_node).toBe(2);
    expect(system.warnings).toEqual(expect.arrayContaining([
      'services.web.deploy.resources.limits.cpus: 1.5 rounded up to 2 whole cores',
      expect.stringContaining('services.web.deploy.resources.limits.memory: 314572800 bytes rounded up to 5 units of 64 MiB'),
    ]));
  });

  it('plans 1 core and 1 unit for a service without limits', () => {
    const bare = composeToApp(parseCompose({ services: { a: { image: 'x' } } }, { env: {} }), { name: 'b', sid: SID, namespace: 'default' }, 512);
    expect(bare.plan).toEqual({ [`b-${SID}_a`]: { cpu_cores: 1, mem_units: 1 } });
  });

  it('is a tier the topology accepts, carrying what the container needs', () => {
    const topology = parseTopology({ infrastructure: { cpu_cores: 4, mem_units: 16 }, apps: [system.app] });
    const web = topology.tiers.get(`shop-${SID}_web`)!;
    expect(web.dependsOn).toEqual([`shop-${SID}_db`]);
    expect(web.entrypointArgs).toEqual(['httpd', '-f', '-p', '8080', '-h', '/tmp']);
    expect(web.system).toMatchObject({
      sid: SID, namespace: 'team-a', service: 'web', network: `shop-${SID}`, waitHealthy: ['db'],
      publish: [{ containerPort: 8080, protocol: 'tcp' }, { containerPort: 9001, protocol: 'udp' }, { containerPort: 7000, protocol: 'tcp' }],
      restart: { policy: 'on-failure', maxRetries: 3 },
    });
    const db = topology.tiers.get(`shop-${SID}_db`)!;
    expect(db.system!.mounts).toEqual([{ type: 'volume', volume: `shop-${SID}_dbdata`, target: '/data', readOnly: false, driverOpts: {}, external: false }]);
    expect(db.system!.healthcheck).toEqual({ test: ['CMD-SHELL', '[ -f /tmp/ready ]'], intervalMs: 1000, retries: 30 });
  });

  it('gives the same tiers typed as the topology reads back from its document after a restart', () => {
    const withHooks = composeToApp(parseCompose({
      services: {
        a: { image: 'x', 'x-ecoware': { on_node_scale: 'grow.sh', on_dependency_scale: 'process:p1', node_selector: { zone: 'b' }, max_node: 3 } },
        b: { image: 'y', depends_on: { a: { condition: 'service_started' } }, restart: 'always', volumes: ['/tmp/x:/x:ro'] },
      },
    }, { env: {}, allowBindRoot: '/tmp' }), { name: 'h', sid: SID, namespace: 'default' }, 64);
    for (const made of [system, withHooks]) {
      const read = parseTopology({ infrastructure: { cpu_cores: 4, mem_units: 16 }, apps: [made.app] }, { localDocker: 'unix:///x', allowBindRoot: '/tmp' });
      expect(made.tiers).toEqual([...read.tiers.values()]);
    }
  });
});
