import { ConflictError, ValidationError } from './errors';
import { App, assertAcyclic, Tier, Topology } from './topology';

/** An app to add to a topology: its typed tiers, and its entry of the topology document (what is persisted). */
export interface AppEdit {
  name: string;
  /** In the order given; their `app` is `name`. */
  tiers: Tier[];
  /** `{name, tiers}` as the topology document holds it. */
  document: Record<string, unknown>;
}

/**
 * The topology with one more app. Only the new app is checked, against what the topology already
 * holds: a unique app name, flat tier names that collide with no other tier, no dependency circle.
 * The infrastructure and the other apps are taken as they are.
 */
export function withApp(topology: Topology, app: AppEdit): Topology {
  const field = `apps[${topology.apps.length}]`;
  if (topology.apps.some((a) => a.name === app.name)) throw new ConflictError(`app '${app.name}' is already in the topology`);
  const tiers = new Map(topology.tiers);
  for (const tier of app.tiers) {
    if (tier.app !== app.name) throw new ValidationError(`${field}.tiers.${tier.tier}`, `belongs to app '${tier.app}', not '${app.name}'`);
    if (tiers.has(tier.flatName)) throw new ValidationError(`${field}.tiers.${tier.tier}`, `flat name '${tier.flatName}' collides with another tier`);
    tiers.set(tier.flatName, tier);
  }
  assertAcyclic(app.name, app.tiers, `${field}.tiers`);
  const entry: App = { name: app.name, tierNames: app.tiers.map((t) => t.tier) };
  return { infrastructure: topology.infrastructure, apps: [...topology.apps, entry], tiers, raw: { ...topology.raw, apps: [...rawApps(topology), app.document] } };
}

/** The topology without the app `name`; undefined when it holds no such app. */
export function withoutApp(topology: Topology, name: string): Topology | undefined {
  if (!topology.apps.some((a) => a.name === name)) return undefined;
  const tiers = new Map([...topology.tiers].filter(([, t]) => t.app !== name));
  const apps = rawApps(topology).filter((a) => !(typeof a === 'object' && a !== null && (a as { name?: unknown }).name === name));
  return { infrastructure: topology.infrastructure, apps: topology.apps.filter((a) => a.name !== name), tiers, raw: { ...topology.raw, apps } };
}

function rawApps(topology: Topology): unknown[] {
  return Array.isArray(topology.raw.apps) ? topology.raw.apps : [];
}
