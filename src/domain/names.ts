/** Names of apps, tiers, nodes and hooks: what Docker accepts in a container name, and safe in a path. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Names may be file names (hooks) and ids: 128 characters at most (app and tier names: 63, see topology.ts). */
export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= 128 && NAME_PATTERN.test(name);
}

/** A tier's flat name names it in plans, allocations and as its container's name on a node. */
export function flatTierName(app: string, tier: string): string {
  return `${app}_${tier}`;
}
