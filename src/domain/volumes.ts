import { posix } from 'path';
import { SystemMount } from './system-tier';
import { ValidationError } from './errors';
import { readBoolean, readObject, readOptionalString, readStringArray, readStringMap } from './json-reader';
import { isValidName } from './names';

/** A named volume of `infrastructure.volumes`: created on a node the first time a container mounts it there. */
export interface VolumeDeclaration {
  driver?: string;
  driverOpts: Record<string, string>;
  /**
   * The same data is reachable from every node (NFS and the like): tiers mounting it move freely.
   * Otherwise the data lives on one node and pins the containers that mount it there.
   */
  shared: boolean;
}

/** `infrastructure.volumes: {name: {driver?, driver_opts?, shared?}}`. */
export function parseVolumeDeclarations(value: unknown, field: string): Record<string, VolumeDeclaration> {
  if (value === undefined || value === null) return {};
  const obj = readObject(value, field);
  const out: Record<string, VolumeDeclaration> = {};
  for (const [name, spec] of Object.entries(obj)) {
    const f = `${field}.${name}`;
    if (!isValidName(name)) throw new ValidationError(f, `'${name}' is not a valid volume name ([A-Za-z0-9][A-Za-z0-9_.-]*)`);
    const decl = spec === null || spec === undefined ? {} : readObject(spec, f);
    for (const key of Object.keys(decl)) {
      if (!['driver', 'driver_opts', 'shared'].includes(key)) throw new ValidationError(`${f}.${key}`, 'is not a volume field (driver, driver_opts, shared)');
    }
    const driverOpts = decl.driver_opts === undefined ? {} : readStringMap(decl.driver_opts, `${f}.driver_opts`);
    out[name] = {
      driver: readOptionalString(decl.driver, `${f}.driver`),
      driverOpts,
      // An NFS volume reaches the same data from every node unless said otherwise.
      shared: decl.shared === undefined ? driverOpts.type === 'nfs' : readBoolean(decl.shared, `${f}.shared`),
    };
  }
  return out;
}

/**
 * A tier's `volumes: ["name:/path[:ro|rw]", "/host/path:/path[:ro|rw]"]`: a declared volume, or a
 * host path under the daemon's `--allow-bind` root.
 */
export function parseTierVolumes(value: unknown, field: string, declared: Readonly<Record<string, VolumeDeclaration>>, allowBindRoot: string | undefined): SystemMount[] {
  if (value === undefined || value === null) return [];
  const items = readStringArray(value, field);
  const targets = new Set<string>();
  return items.map((item, i) => {
    const where = `${field}[${i}]`;
    const parts = item.split(':');
    if (parts.length < 2 || parts.length > 3) throw new ValidationError(where, `'${item}' is not NAME:/PATH[:ro|rw]`);
    const [source, target, mode] = parts;
    if (mode !== undefined && mode !== 'ro' && mode !== 'rw') throw new ValidationError(where, `mode '${mode}' must be ro or rw`);
    if (!target.startsWith('/') || target.split('/').includes('..')) throw new ValidationError(where, `target '${target}' must be an absolute path without '..'`);
    if (targets.has(target)) throw new ValidationError(where, `target '${target}' is mounted twice`);
    targets.add(target);
    const readOnly = mode === 'ro';
    if (/^[./~]/.test(source)) return { type: 'bind' as const, source: allowedHostPath(source, where, allowBindRoot), target, readOnly };
    const decl = declared[source];
    if (!decl) {
      const known = Object.keys(declared);
      throw new ValidationError(where, `volume '${source}' is not declared in infrastructure.volumes${known.length > 0 ? ` (declared: ${known.join(', ')})` : ''}`);
    }
    return { type: 'volume' as const, volume: source, target, readOnly, driver: decl.driver, driverOpts: { ...decl.driverOpts }, external: false };
  });
}

/** A host path to bind: absolute, without '..', under the `--allow-bind` root; answers it normalised. */
export function allowedHostPath(source: string, where: string, allowBindRoot: string | undefined): string {
  if (!source.startsWith('/')) throw new ValidationError(where, `host path '${source}' must be absolute (there is no project directory on the daemon)`);
  const normalized = posix.normalize(source);
  const root = allowBindRoot ? posix.normalize(`${allowBindRoot}/`) : undefined;
  if (!root || !(normalized === root.slice(0, -1) || normalized.startsWith(root)) || source.split('/').includes('..')) {
    throw new ValidationError(where, allowBindRoot
      ? `host path '${source}' is outside the allowed root ${allowBindRoot}`
      : `host path '${source}' is not allowed (the daemon allows no bind mounts; start it with --allow-bind DIR)`);
  }
  return normalized;
}

/**
 * Tiers whose data lives on their node: flat tier -> the non-shared volumes it mounts. A system's
 * (compose file's) named volume counts unless its `driver_opts.type` is `nfs`; external ones too.
 */
export function nodeLocalVolumes(
  tiers: Iterable<{ flatName: string; volumes?: SystemMount[]; system?: { mounts: SystemMount[] } }>,
  declared: Readonly<Record<string, VolumeDeclaration>>,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const tier of tiers) {
    const local = [
      ...(tier.volumes ?? []).flatMap((m) => (m.type === 'volume' && !declared[m.volume]?.shared ? [m.volume] : [])),
      ...(tier.system?.mounts ?? []).flatMap((m) => (m.type === 'volume' && m.driverOpts.type !== 'nfs' ? [m.volume] : [])),
    ];
    if (local.length > 0) out.set(tier.flatName, local);
  }
  return out;
}
