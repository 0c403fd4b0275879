import { tychoStatusItem, tychoUtilization } from '../../src/http/tycho-routes';
import type { ContainerReport, SystemStatus } from '../../src/use-cases/systems/systems';

/**
 * Tycho's client (helxplatform/tycho, `TychoClient.status` / `list`) builds an object from each
 * status item by its keys, then `get_utilization` walks `utilization` as a map of container to
 * quantities: `for key in utilization.keys(): val = utilization[key]` and sums `val["cpu"]` ("N"
 * cores or "Nm" millicores) and `val["memory"]` (an integer and one of M G T P E, optionally with
 * i). `readAsTychoClient` reads an item exactly that way and fails where the client would raise.
 */
const TYCHO_KEYS = ['app_id', 'conn_string', 'creation_time', 'ip_address', 'is_ready', 'name', 'port', 'sid', 'username', 'utilization', 'workspace_name'];
const MEMORY_FACTOR: Record<string, number> = { M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

function readAsTychoClient(item: Record<string, unknown>): { cpuCores: number; memoryBytes: number } {
  const keys = Object.keys(item).sort();
  if (keys.join() !== TYCHO_KEYS.join()) throw new Error(`unexpected keys ${keys.join()}`);
  for (const [key, value] of Object.entries(item)) if (value === null) throw new Error(`${key} is null`);
  const utilization = item.utilization;
  if (typeof utilization !== 'object' || utilization === null || Array.isArray(utilization)) throw new Error('utilization has no keys()');
  let cpuCores = 0;
  let memoryBytes = 0;
  for (const key of Object.keys(utilization)) {
    const val = (utilization as Record<string, unknown>)[key];
    if (typeof val !== 'object' || val === null) throw new Error(`'${typeof val}' object has no attribute 'keys'`);
    const { cpu, memory } = val as Record<string, unknown>;
    if (typeof cpu !== 'string' || typeof memory !== 'string') throw new Error(`${key}: KeyError cpu or memory`);
    const cpuMatch = /^(\d+)(m?)$/.exec(cpu);
    if (!cpuMatch) throw new Error(`${key}: cpu ${cpu}`);
    cpuCores += cpuMatch[2] === 'm' ? Number(cpuMatch[1]) / 1000 : Number(cpuMatch[1]);
    const memoryMatch = /^(\d+)([MGTPE]i?)$/.exec(memory);
    if (!memoryMatch) throw new Error(`${key}: memory ${memory}`);
    memoryBytes += Number(memoryMatch[1]) * MEMORY_FACTOR[memoryMatch[2]];
  }
  return { cpuCores, memoryBytes };
}

const MiB = 2 ** 20;
const container = (vm: string, cores: number, memoryMiB: number, hostPort?: number): ContainerReport => ({
  id: `${vm}-${cores}-${memoryMiB}`, vm, state: 'running', cpu_cores: cores, memory_bytes: memoryMiB * MiB,
  ports: hostPort === undefined ? [] : [{ container_port: 80, host_port: hostPort, protocol: 'tcp', vm, address: '127.0.0.1' }],
});
const status = (services: Record<string, ContainerReport[]>): SystemStatus => ({
  name: 'jupyter', sid: 'a'.repeat(32), namespace: 'default', app: `jupyter-${'a'.repeat(32)}`, created_at: '2026-01-01T00:00:00.000Z',
  status: 'running', ready: true, warnings: [],
  services: Object.fromEntries(Object.entries(services).map(([name, containers]) => [name, { state: 'running', ready: true, containers }])),
});

describe('Tycho status items, read as Tycho\'s client reads them', () => {
  it.each([
    ['no container yet', {}, {}, 0, 0],
    ['one service', { web: [container('vm1', 1, 64, 20000)] }, { web: { cpu: '1', memory: '64Mi' } }, 1, 64],
    ['two services', { web: [container('vm1', 1, 64, 20000)], db: [container('vm2', 2, 256)] }, { web: { cpu: '1', memory: '64Mi' }, db: { cpu: '2', memory: '256Mi' } }, 3, 320],
    ['replicas summed per service', { web: [container('vm1', 1, 64, 20000), container('vm2', 1, 64, 20001)] }, { web: { cpu: '2', memory: '128Mi' } }, 2, 128],
    ['a service without containers is left out', { web: [container('vm1', 1, 64, 20000)], worker: [] }, { web: { cpu: '1', memory: '64Mi' } }, 1, 64],
  ])('%s', (_name, services, expected, cores, memoryMiB) => {
    const s = status(services);
    expect(tychoUtilization(s)).toEqual(expected);
    const item = tychoStatusItem(s, 'alice');
    expect(readAsTychoClient(item)).toEqual({ cpuCores: cores, memoryBytes: memoryMiB * MiB });
  });

  it('the reader fails on the flat shape that made the client raise', () => {
    const item = { ...tychoStatusItem(status({ web: [container('vm1', 1, 64)] }), 'alice'), utilization: { cpu: '1', memory: '64Mi' } };
    expect(() => readAsTychoClient(item)).toThrow("'string' object has no attribute 'keys'");
  });

  it('gives a number port and strings where a system publishes nothing', () => {
    const item = tychoStatusItem(status({ db: [container('vm2', 1, 128)] }), 'alice');
    expect(item).toMatchObject({ port: 0, ip_address: '', conn_string: '', username: 'alice', is_ready: true });
  });
});
