import { Resources } from './resources';

/** The kinds of container engine the daemon drives (one runtime driver each). */
export const ENGINE_KINDS = ['docker'] as const;
export type EngineKind = typeof ENGINE_KINDS[number];

/** A node's container engine: which kind, and how to reach it. */
export interface EngineEndpoint {
  kind: EngineKind;
  /** Docker: `unix:///var/run/docker.sock`, `tcp://10.0.0.5:2375`, `https://10.0.0.5:2376`. */
  url: string;
  /** Directory holding ca.pem, cert.pem and key.pem for TLS. */
  certPath?: string;
}

/** A machine that runs containers: a static node or a cloud instance. */
export interface Vm {
  /** Unique in the fleet: the node's name, or the instance id. */
  name: string;
  capacity: Resources;
  engine: EngineEndpoint;
  /** Address published to containers (`/etc/hosts` entries) and shown by the API. */
  address?: string;
  instanceId?: string;
  /** Placement labels (static nodes), matched by tiers' `node_selector`. */
  labels?: Record<string, string>;
}

/**
 * Placeholder names for new VMs that no existing VM can be confused with:
 * `new_vm0, new_vm1, …` unless an existing VM is already called like that, then `new_vm_0, …`, and so on.
 */
export function newVmNames(existingNames: Iterable<string>, count: number): string[] {
  const existing = [...existingNames];
  let prefix = 'new_vm';
  const clashes = (p: string) => existing.some((name) => name.startsWith(p) && /^\d+$/.test(name.slice(p.length)));
  while (clashes(prefix)) prefix += '_';
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}
