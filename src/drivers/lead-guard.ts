import { InfrastructureError } from '../domain/errors';
import { ContainerRuntime, ContainerSpec, TaskSpec } from '../ports/container-runtime';
import { LABEL_EPOCH } from './docker/labels';

/** The optional capability objects of a runtime (ports/container-runtime.ts), whose methods are guarded as the runtime's own. */
const CAPABILITIES = new Set(['volumes', 'systemNetworks', 'tasks', 'images']);

/**
 * The engine and cloud calls that only read, by their path in the ports (ContainerRuntime,
 * CloudDriver). Anything not named here changes something, or might.
 */
const READS = new Set([
  'ping', 'info', 'hostAddress', 'listManaged', 'listManagedStates', 'readFile',
  'volumes.list', 'systemNetworks.listVolumes', 'tasks.inspect', 'tasks.list', 'tasks.readFile', 'tasks.logs', 'images.has',
  'listVms', 'maxVms',
]);

/**
 * Wraps an engine or cloud client so that every call first asks whether this daemon may still act
 * (on PostgreSQL: leads, by its own clock). The question is synchronous, so a process resumed after
 * a pause past its deadline is refused before it makes its next call, even before its timers run.
 * The runtime's capability objects (`volumes`, `tasks` …) are guarded the same way.
 */
export function guardCalls<T extends object>(target: T, mayAct: () => boolean): T {
  return wrapCalls(target, '', () => {
    if (!mayAct()) throw new InfrastructureError('this daemon does not lead any more: no engine or cloud call', 'cancelled');
  });
}

/**
 * An engine or cloud client that can only read (READS): what a standby uses to show the fleet
 * without acting. Every other call is refused before it is made, whoever leads. A separate client
 * rather than a guard that lets reads through: the leader's clients stay refused whole once it stops
 * leading, so what "no further engine call" means never depends on this list being right.
 */
export function readOnlyCalls<T extends object>(target: T): T {
  return wrapCalls(target, '', (name) => {
    if (!READS.has(name)) throw new InfrastructureError(`a standby changes nothing on the engines or the cloud (${name} refused)`, 'cancelled');
  });
}

function wrapCalls<T extends object>(target: T, prefix: string, check: (name: string) => void): T {
  // Each capability object is wrapped once, so that reading it twice gives the same object.
  const capabilities = new Map<string, { of: object; proxy: object }>();
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property) as unknown;
      const name = `${prefix}${String(property)}`;
      if (typeof value === 'object' && value !== null && prefix === '' && CAPABILITIES.has(name)) {
        const known = capabilities.get(name);
        if (known?.of === value) return known.proxy;
        const proxy = wrapCalls(value, `${name}.`, check);
        capabilities.set(name, { of: value, proxy });
        return proxy;
      }
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        check(name);
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
}

/**
 * A runtime whose containers and tasks carry, as a label, the epoch of the leader that created them
 * (`epoch()`, read at each call; none while it is undefined), so an operator can tell which leader
 * made what. Everything else is the runtime's own.
 */
export function labelWithEpoch(runtime: ContainerRuntime, epoch: () => number | undefined): ContainerRuntime {
  const stamp = (labels: Record<string, string> | undefined): Record<string, string> | undefined => {
    const current = epoch();
    return current === undefined ? labels : { ...labels, [LABEL_EPOCH]: String(current) };
  };
  const tasks = runtime.tasks && new Proxy(runtime.tasks, {
    get: (target, property) => property === 'start'
      ? (spec: TaskSpec) => target.start({ ...spec, labels: stamp(spec.labels) ?? {} })
      : bound(target, property),
  });
  return new Proxy(runtime, {
    get: (target, property) => {
      if (property === 'create') return (spec: ContainerSpec) => target.create({ ...spec, labels: stamp(spec.labels) });
      if (property === 'tasks') return tasks;
      return bound(target, property);
    },
  });
}

function bound(target: object, property: string | symbol): unknown {
  const value = Reflect.get(target, property) as unknown;
  return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
}
