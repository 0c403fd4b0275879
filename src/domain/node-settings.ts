import { ValidationError } from './errors';
import { Json, readBoolean, readObject, readOptionalSecondsAsMs, readStringMap } from './json-reader';

/** How the node pool is watched and repaired (infrastructure fields, SPEC §8). */
export interface NodePoolSettings {
  /** `node_health_interval_s` (default 10): how often every engine is pinged. */
  healthIntervalMs: number;
  /** `reconcile_interval_s` (default 30; 0 = off): how often engines are compared with the allocation. */
  reconcileIntervalMs: number;
  /** `node_lost_after_s` (default 300): how long a node may stay unreachable before it is lost. */
  lostAfterMs: number;
  /** `self_heal` (default true): a lost node's tiers are placed on the others. */
  selfHeal: boolean;
}

export const DEFAULT_NODE_POOL_SETTINGS: NodePoolSettings = {
  healthIntervalMs: 10_000, reconcileIntervalMs: 30_000, lostAfterMs: 300_000, selfHeal: true,
};

export function parseNodePoolSettings(obj: Record<string, unknown>, field: (key: string) => string): NodePoolSettings {
  const seconds = (key: string, fallbackMs: number, allowZero: boolean): number =>
    readOptionalSecondsAsMs(obj[key] as Json, field(key), { allowZero }) ?? fallbackMs;
  return {
    healthIntervalMs: seconds('node_health_interval_s', DEFAULT_NODE_POOL_SETTINGS.healthIntervalMs, false),
    reconcileIntervalMs: seconds('reconcile_interval_s', DEFAULT_NODE_POOL_SETTINGS.reconcileIntervalMs, true),
    lostAfterMs: seconds('node_lost_after_s', DEFAULT_NODE_POOL_SETTINGS.lostAfterMs, false),
    selfHeal: obj.self_heal === undefined ? DEFAULT_NODE_POOL_SETTINGS.selfHeal : readBoolean(obj.self_heal, field('self_heal')),
  };
}

const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9_./-]{0,252}[A-Za-z0-9])?$/;

/** `labels` of a node or `node_selector` of a tier: `{key: value}` strings, keys like Kubernetes label keys. */
export function parseLabels(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const labels = readStringMap(readObject(value, field), field);
  for (const [key, v] of Object.entries(labels)) {
    if (!LABEL_KEY.test(key)) throw new ValidationError(`${field}.${key}`, `'${key}' is not a label key (letters, digits, '_', '.', '/', '-')`);
    if (v.length > 253) throw new ValidationError(`${field}.${key}`, 'a label value is at most 253 characters');
  }
  return labels;
}

/** True when the node's labels carry every pair of the selector. */
export function matchesSelector(labels: Readonly<Record<string, string>>, selector: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
