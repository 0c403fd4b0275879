import { InfrastructureError } from '../domain/errors';

/**
 * Wraps an engine or cloud client so that every call first asks whether this daemon may still act
 * (on PostgreSQL: leads, by its own clock). The question is synchronous, so a process resumed after
 * a pause past its deadline is refused before it makes its next call, even before its timers run.
 */
export function guardCalls<T extends object>(target: T, mayAct: () => boolean): T {
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (!mayAct()) throw new InfrastructureError('this daemon does not lead any more: no engine or cloud call', 'cancelled');
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
}
