import Docker from 'dockerode';
import { NotFoundError } from '../../domain/errors';

/**
 * One engine call bounded in time (the driver's budget, or `timeoutMs`), its failure translated into
 * a domain error (DockerContainerRuntime.call): what every part of the driver talks to the engine by.
 */
export type EngineCall = <T>(operation: string, run: (signal: AbortSignal) => Promise<T>, timeoutMs?: number) => Promise<T>;

/** A container's inspection, or undefined when the engine has none by that id or name. */
export async function inspectIfExists(docker: Docker, call: EngineCall, idOrName: string, operation: string): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await call(operation, (abortSignal) => docker.getContainer(idOrName).inspect({ abortSignal }));
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}
