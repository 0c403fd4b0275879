import { ConflictError, NotFoundError, UnsatisfiableError, ValidationError } from '../../domain/errors';
import { isPlainObject, readBoolean, readOptionalString, readString, readStringMap } from '../../domain/json-reader';
import { isValidName } from '../../domain/names';
import { NodeVolume, RuntimeVolumes } from '../../ports/container-runtime';
import { Knowledge, Services } from '../cluster/knowledge';

export interface CreateVolumeRequest {
  name: string;
  driver: string;
  driverOpts: Record<string, string>;
  labels: Record<string, string>;
  recreate: boolean;
}

/** `{name, driver?, driver_opts?, labels?, recreate?}`; bad fields are refused naming them. */
export function readCreateVolumeRequest(body: unknown): CreateVolumeRequest {
  if (!isPlainObject(body)) throw new ValidationError('body', 'must be a JSON object {name, driver?, driver_opts?, labels?, recreate?}');
  for (const key of Object.keys(body)) {
    if (!['name', 'driver', 'driver_opts', 'labels', 'recreate'].includes(key)) throw new ValidationError(key, 'is not a volume field (name, driver, driver_opts, labels, recreate)');
  }
  const name = readString(body.name, 'name');
  if (!isValidName(name)) throw new ValidationError('name', `'${name}' is not a valid volume name ([A-Za-z0-9][A-Za-z0-9_.-]*)`);
  return {
    name,
    driver: readOptionalString(body.driver, 'driver') ?? 'local',
    driverOpts: body.driver_opts === undefined ? {} : readStringMap(body.driver_opts, 'driver_opts'),
    labels: body.labels === undefined ? {} : readStringMap(body.labels, 'labels'),
    recreate: body.recreate === undefined ? false : readBoolean(body.recreate, 'recreate'),
  };
}

/**
 * The volumes of one node (SPEC §8): list them with the containers that use them, create one
 * (identical again is answered as it is, different is a conflict unless `recreate`), remove one
 * (a conflict naming its containers while any uses it).
 */
export class NodeVolumes {
  constructor(private readonly knowledge: Knowledge, private readonly services: Services) {}

  async list(node: string): Promise<NodeVolume[]> {
    return this.volumesOf(node).list();
  }

  async create(node: string, request: CreateVolumeRequest): Promise<{ created: boolean; volume: NodeVolume }> {
    const volumes = this.volumesOf(node);
    const existing = (await volumes.list()).find((v) => v.name === request.name);
    if (existing) {
      const same = existing.driver === request.driver && sameMap(existing.driver_opts, request.driverOpts);
      if (same) return { created: false, volume: existing };
      if (!request.recreate) {
        throw new ConflictError(`volume '${request.name}' exists on node '${node}' with driver '${existing.driver}' and driver_opts ${JSON.stringify(existing.driver_opts)}; send recreate: true to replace it (its data is lost)`);
      }
      await volumes.remove(request.name);
    }
    const volume = await volumes.create({ name: request.name, driver: request.driver, driverOpts: request.driverOpts, labels: request.labels });
    return { created: true, volume };
  }

  async remove(node: string, name: string): Promise<void> {
    // Checked before the name reaches an engine's URL: `..` or a NUL there is not a volume but another path.
    const shown = name.slice(0, 128);
    if (!isValidName(name)) throw new ValidationError('volume', `'${shown}' is not a valid volume name ([A-Za-z0-9][A-Za-z0-9_.-]*)`);
    await this.volumesOf(node).remove(name).catch((e) => {
      throw e instanceof NotFoundError ? new NotFoundError(`volume '${name}' is not on node '${node}'`) : e;
    });
  }

  private volumesOf(node: string): RuntimeVolumes {
    const { volumes } = this.services.runtimeFor(this.knowledge.requireVm(node).vm);
    if (!volumes) throw new UnsatisfiableError(`node '${node}' has no volume support in its container runtime`);
    return volumes;
  }
}

function sameMap(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
