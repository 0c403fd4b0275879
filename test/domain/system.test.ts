import { parseCompose } from '../../src/schema/compose/compose-file';
import { composeToApp, systemAppEdit } from '../../src/schema/compose/system-app';
import { ConflictError } from '../../src/domain/errors';
import {
  newSystem, systemDeleteFailed, systemDeleting, systemExecutionAdded, systemHostPortsChosen, systemInterrupted, systemRunning, SystemTransitionError,
} from '../../src/domain/system';
import { parseTopology } from '../../src/schema/topology-file';
import { withApp, withoutApp } from '../../src/domain/topology-edit';

const SID = 'a'.repeat(32);

describe('system record transitions', () => {
  const fresh = () => newSystem({ sid: SID, name: 'shop', app: `shop-${SID}`, namespace: 'default' }, ['rounded'], new Date('2026-01-01T00:00:00Z'));

  it('goes starting -> running -> deleting, keeping its executions and ports', () => {
    const r = fresh();
    expect(r).toMatchObject({ status: 'starting', created_at: '2026-01-01T00:00:00.000Z', warnings: ['rounded'], execution_ids: [], host_ports: {} });
    systemExecutionAdded(r, 'e1');
    systemHostPortsChosen(r, 'vm1', 'web', { '8080/tcp': 20000 });
    systemRunning(r);
    systemDeleting(r);
    systemExecutionAdded(r, 'e2');
    expect(r).toMatchObject({ status: 'deleting', execution_ids: ['e1', 'e2'], host_ports: { vm1: { web: { '8080/tcp': 20000 } } } });
    systemDeleteFailed(r);
    expect(r.status).toBe('running');
  });

  it('refuses moves the diagram lacks', () => {
    const r = fresh();
    expect(() => systemDeleteFailed(r)).toThrow(SystemTransitionError);
    systemRunning(r);
    expect(() => systemRunning(r)).toThrow(SystemTransitionError);
    expect(() => systemExecutionAdded(r, 'e3')).toThrow(SystemTransitionError);
    expect(() => systemInterrupted(r)).toThrow(SystemTransitionError);
  });

  it('a system a stopped daemon left half-way is kept running, with a warning that says so', () => {
    const r = fresh();
    systemInterrupted(r);
    expect(r).toMatchObject({ status: 'running', warnings: ['rounded', 'the daemon stopped while this system was starting'] });
  });
});

describe('app edits of a topology', () => {
  const topology = () => parseTopology({
    infrastructure: { cpu_cores: 4, mem_units: 16 },
    apps: [{ name: 'shop', tiers: { db: { docker_image: 'busybox' } } }],
  }, { localDocker: 'unix:///x' });
  const system = (name = 'web') => composeToApp(parseCompose({ services: { web: { image: 'busybox' }, db: { image: 'busybox' } } }, { env: {} }),
    { name, sid: SID, namespace: 'default' }, 512);

  it('adds an app as given, leaving the others as they were, and takes it out again', () => {
    const before = topology();
    const added = withApp(before, systemAppEdit(system()));
    expect(added.apps.map((a) => a.name)).toEqual(['shop', `web-${SID}`]);
    expect([...added.tiers.keys()]).toEqual(['shop_db', `web-${SID}_web`, `web-${SID}_db`]);
    expect(added.tiers.get('shop_db')).toBe(before.tiers.get('shop_db'));
    expect((added.raw.apps as { name: string }[]).map((a) => a.name)).toEqual(['shop', `web-${SID}`]);
    // What is persisted reads back to the same topology.
    expect([...parseTopology(added.raw, { localDocker: 'unix:///x' }).tiers.values()]).toEqual([...added.tiers.values()]);
    const removed = withoutApp(added, `web-${SID}`)!;
    expect(removed.raw).toEqual(before.raw);
    expect([...removed.tiers.keys()]).toEqual(['shop_db']);
    expect(withoutApp(removed, `web-${SID}`)).toBeUndefined();
  });

  it('refuses an app already there, and tiers whose flat names collide with the topology\'s', () => {
    const added = withApp(topology(), systemAppEdit(system()));
    expect(() => withApp(added, systemAppEdit(system()))).toThrow(ConflictError);
    // App `sh` with a tier whose flat name is `shop_db`, like app `shop`'s tier `db`.
    const clash = { ...added.tiers.get('shop_db')!, app: 'sh', tier: 'op_db' };
    expect(() => withApp(topology(), { name: 'sh', tiers: [clash], document: { name: 'sh', tiers: { op_db: {} } } })).toThrow(/collides/);
  });
});
