import { InfrastructureError, NotFoundError } from '../../domain/errors';
import { Vm } from '../../domain/vm';
import { ContainerRuntimeFactory, ImageBuildResult, ImageBuildSpec, RuntimeImages } from '../../ports/container-runtime';

export type EnsureOutcome = 'present' | 'copied';

/**
 * The images of job templates on the nodes, with no registry: a template's image is built once on
 * one node, and copied to another node the first time a job of it runs there, streamed from a node
 * that has it (save there, load here, nothing written to disk on the way). It knows engines only
 * through the runtime port's `images` capability.
 */
export class JobImages {
  /** Copies under way, by target engine and reference: a second ask for the same copy joins the first. */
  private readonly copies = new Map<string, Promise<EnsureOutcome>>();

  constructor(private readonly runtimeFor: ContainerRuntimeFactory) {}

  /** Builds a template's image on `node`; InfrastructureError when the node's runtime has no images capability. */
  async build(node: Vm, spec: ImageBuildSpec): Promise<ImageBuildResult> {
    return this.imagesOf(node).build(spec);
  }

  /**
   * Makes sure `ref` is on `target`: 'present' when it is, else copies it from the first of
   * `sources` that has it: 'copied'. NotFoundError naming the ref when none has it; when some source
   * could not be asked, InfrastructureError naming it instead (the image may be there).
   */
  ensureOn(ref: string, target: Vm, sources: readonly Vm[]): Promise<EnsureOutcome> {
    const key = `${engineKey(target)}\u0000${ref}`;
    const running = this.copies.get(key);
    if (running) return running;
    const copy = this.copy(ref, target, sources).finally(() => this.copies.delete(key));
    this.copies.set(key, copy);
    return copy;
  }

  /** The names of the nodes among `nodes` that have the image; a node that cannot be asked is not among them. */
  async whereIs(ref: string, nodes: readonly Vm[]): Promise<string[]> {
    const found = await Promise.all(nodes.map(async (node) => {
      const images = this.runtimeFor(node).images;
      if (!images) return undefined;
      try {
        return (await images.has(ref)) ? node.name : undefined;
      } catch {
        return undefined;
      }
    }));
    return found.filter((name): name is string => name !== undefined);
  }

  private async copy(ref: string, target: Vm, sources: readonly Vm[]): Promise<EnsureOutcome> {
    const into = this.imagesOf(target);
    if (await into.has(ref)) return 'present';
    const unanswered: string[] = [];
    for (const source of sources) {
      // The same engine is the target itself: it was just asked.
      if (source.name === target.name || engineKey(source) === engineKey(target)) continue;
      const from = this.runtimeFor(source).images;
      if (!from) continue;
      let has: boolean;
      try {
        has = await from.has(ref);
      } catch (err) {
        unanswered.push(`${source.name} (${(err as Error).message})`);
        continue;
      }
      if (!has) continue;
      const archive = await from.save(ref);
      try {
        await into.load(archive);
      } catch (err) {
        // The source's answer is not read to its end: close it rather than leave the connection open.
        (archive as { destroy?: () => void }).destroy?.();
        throw err;
      }
      if (!(await into.has(ref))) {
        throw new InfrastructureError(`image '${ref}' was loaded into node '${target.name}' from node '${source.name}' and is still not there`);
      }
      return 'copied';
    }
    if (unanswered.length > 0) {
      throw new InfrastructureError(`image '${ref}' is on none of the nodes that answered; not asked: ${unanswered.join(', ')}`);
    }
    throw new NotFoundError(`image '${ref}' is on none of the nodes ${sources.map((s) => `'${s.name}'`).join(', ') || '(none given)'}`);
  }

  private imagesOf(node: Vm): RuntimeImages {
    const images = this.runtimeFor(node).images;
    if (!images) throw new InfrastructureError(`the engine of node '${node.name}' (${node.engine.kind}) cannot build or move images`);
    return images;
  }
}

function engineKey(node: Vm): string {
  return `${node.engine.kind}|${node.engine.url}`;
}
