import { InfrastructureError } from '../domain/errors';

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
