import { EngineKind } from '../domain/vm';
import { ContainerRuntime, ContainerRuntimeFactory, RuntimeDriver } from '../ports/container-runtime';
import { createDockerRuntime } from './docker/docker-container-runtime';

/** The runtime driver of each kind of engine a node may name (`engine.kind`); another kind is one more entry. */
export const RUNTIME_DRIVERS: Readonly<Record<EngineKind, RuntimeDriver>> = {
  docker: createDockerRuntime,
};

/** `runtimeFor(vm)`: the runtime of a VM's engine, made by the driver of its kind, one client per endpoint. */
export function runtimesByEngine(drivers: Readonly<Record<EngineKind, RuntimeDriver>> = RUNTIME_DRIVERS): ContainerRuntimeFactory {
  const runtimes = new Map<string, ContainerRuntime>();
  return ({ engine }) => {
    const key = `${engine.kind}|${engine.url}|${engine.certPath ?? ''}`;
    let runtime = runtimes.get(key);
    if (!runtime) {
      const driver = drivers[engine.kind];
      if (!driver) throw new Error(`no container runtime for engines of kind '${engine.kind}'`);
      runtimes.set(key, (runtime = driver(engine)));
    }
    return runtime;
  };
}
