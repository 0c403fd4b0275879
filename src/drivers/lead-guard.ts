import { InfrastructureError } from '../domain/errors';

/** The optional capability objects of a runtime (ports/container-runtime.ts), whose methods are guarded as the runtime's own. */
const CAPABILITIES = new Set(['volumes', 'systemNetworks', 'tasks']);

/**
 * The engine and cloud calls that only read, by their path in the ports (ContainerRuntime,
 * CloudDriver). Anything not named here changes something, or might.
 */
const READS = new Set([
  'ping', 'info', 'hostAddress', 'listManaged', 'listManagedStates', 'readFile',
  'volumes.list', 'systemNetworks.listVolumes', 'tasks.inspect', 'tasks.list', 'tasks.readFile', 'tasks.logs',
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
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property) as unknown;
      const name = `${prefix}${String(property)}`;
      if (typeof value === 'object' && value !== null && prefix === '' && CAPABILITIES.has(name)) return wrapCalls(value, `${name}.`, check);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        check(name);
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
}
