import { UnsatisfiableError } from '../../domain/errors';
import { Vm } from '../../domain/vm';
import { ContainerRuntimeFactory } from '../../ports/container-runtime';

/** How long a node's engine may take to answer at topology load. */
export const NODE_CHECK_TIMEOUT_MS = 5_000;

/**
 * Refuses a pool the executor could not use: every node's engine must answer and have at least as
 * many CPUs as the cores the topology gives the node (cpusets name real cores). All problems are
 * reported together, each naming its node and endpoint.
 */
export async function checkNodes(vms: Vm[], runtimeFor: ContainerRuntimeFactory, timeoutMs = NODE_CHECK_TIMEOUT_MS): Promise<void> {
  const { unreachable, problems } = await probeNodes(vms, runtimeFor, timeoutMs);
  const found = [...problems, ...unreachable.map((u) => u.problem)];
  if (found.length > 0) throw new UnsatisfiableError(found.join('; '));
}

export interface NodeProbe {
  /** Nodes whose engine did not answer, each with the sentence saying so. */
  unreachable: { vm: Vm; problem: string }[];
  /** Nodes that answered but can't be used as given (fewer CPUs than their cores). */
  problems: string[];
}

/** The checks of checkNodes, with the engines that don't answer kept apart (a restart tolerates them). */
export async function probeNodes(vms: Vm[], runtimeFor: ContainerRuntimeFactory, timeoutMs = NODE_CHECK_TIMEOUT_MS): Promise<NodeProbe> {
  const probe: NodeProbe = { unreachable: [], problems: [] };
  await Promise.all(vms.map(async (vm): Promise<void> => {
    const where = `node '${vm.name}' (${vm.engine.url})`;
    try {
      const runtime = runtimeFor(vm);
      await runtime.ping(timeoutMs);
      const info = await runtime.info();
      if (info.cpus < vm.capacity.cpu_cores) {
        probe.problems.push(`${where} has ${info.cpus} CPU${info.cpus === 1 ? '' : 's'} but is given cpu_cores=${vm.capacity.cpu_cores}`);
      }
    } catch (err) {
      probe.unreachable.push({ vm, problem: `${where} is unreachable: ${(err as Error).message}` });
    }
  }));
  return probe;
}
