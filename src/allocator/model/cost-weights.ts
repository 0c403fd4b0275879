/**
 * The objective of SPEC §3, the ecoware-executor weights. Everything the allocator minimises
 * is built from these numbers, so the exact model, the heuristics and the checker cannot drift apart.
 */
export const COST = Object.freeze({
  /** A tier had a container on the VM and still has one there (resized or not). */
  containerKept: 3,
  containerDeleted: 1,
  /** Deleting the container of a `max_node: 1` tier: moving a database is expensive. */
  notScalableContainerDeleted: 100,
  containerCreated: 4,
  existingVmUsed: 11,
  existingVmEmpty: 2,
  newVmUsed: 20,
});
