import { InfrastructureError } from '../domain/errors';
import { ContainerRuntime, ContainerSpec, TaskSpec } from '../ports/container-runtime';
import { LABEL_EPOCH } from './docker/labels';

/**
 * Wraps an engine or cloud client so that every call first asks whether this daemon may still act
 * (on PostgreSQL: leads, by its own clock). The question is synchronous, so a process resumed after
 * a pause past its deadline is refused before it makes its next call, even before its timers run.
 *
 * The client's capability objects (a runtime's `volumes`, `systemNetworks`, `tasks`, `images`: any
 * property that is an object with methods) are guarded the same way, each wrapped once so that
 * reading it twice gives the same object. Data (arrays, maps, buffers, plain records) is passed as it is.
 */
export function guardCalls<T extends object>(target: T, mayAct: () => boolean): T {
  const wrapped = new WeakMap<object, object>();
  const guard = <O extends object>(subject: O): O => new Proxy(subject, {
    get(object, property) {
      const value = Reflect.get(object, property) as unknown;
      if (typeof value === 'function') {
        return (...args: unknown[]) => {
          if (!mayAct()) throw new InfrastructureError('this daemon does not lead any more: no engine or cloud call', 'cancelled');
          return (value as (...a: unknown[]) => unknown).apply(object, args);
        };
      }
      if (!isCapability(value)) return value;
      let proxy = wrapped.get(value);
      if (!proxy) wrapped.set(value, (proxy = guard(value)));
      return proxy;
    },
  });
  return guard(target);
}

const DATA = [Array, Map, Set, WeakMap, WeakSet, Date, RegExp, Promise, ArrayBuffer, Error] as const;

/** An object with methods of its own or of its class (not a built-in data structure). */
function isCapability(value: unknown): value is object {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || DATA.some((type) => value instanceof type)) return false;
  for (let o: object | null = value; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const key of Object.getOwnPropertyNames(o)) {
      if (key === 'constructor') continue;
      const descriptor = Object.getOwnPropertyDescriptor(o, key);
      if (descriptor && typeof descriptor.value === 'function') return true;
    }
  }
  return false;
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
