import { Readable } from 'node:stream';
import { ConflictError, InfrastructureError, NotFoundError } from '../../domain/errors';
import { ImageBuildResult, ImageBuildSpec, RuntimeImages } from '../../ports/container-runtime';

/** What a fake build does: by default the script exits 0, prints nothing, and the check passes. */
export interface FakeBuildOutcome {
  exitCode?: number;
  output?: string;
  /** The check's exit code when the spec has a check (default 0). */
  checkExitCode?: number;
  /** How long the script runs; over the spec's `timeoutMs` it is killed (exit code 124). */
  durationMs?: number;
}

export type FakeBuildBehaviour = (spec: ImageBuildSpec) => FakeBuildOutcome;

/** What a fake image archive holds: the references and labels, as JSON. */
interface FakeArchive { fakeImages: { ref: string; id: string; labels: Record<string, string> }[] }

/**
 * Images of a fake engine: a set of references. A build succeeds unless `buildBehaviour` says
 * otherwise, and keeps no image when its script or its check fails; `save` makes an archive only
 * another fake's `load` reads; an image a task still uses cannot be removed.
 */
export class FakeImages implements RuntimeImages {
  buildBehaviour: FakeBuildBehaviour = () => ({});
  /** Images of the node by reference; tests may seed it. */
  readonly refs = new Map<string, { id: string; labels: Record<string, string> }>();
  private sequence = 0;

  constructor(
    private readonly enter: (op: string, target?: string) => Promise<void>,
    /** Whether a task of the node (running or exited) was made from the image. */
    private readonly inUse: (ref: string) => boolean,
    private readonly prefix: string,
  ) {}

  async has(ref: string): Promise<boolean> {
    await this.enter('images.has', ref);
    return this.refs.has(ref);
  }

  async build(spec: ImageBuildSpec): Promise<ImageBuildResult> {
    await this.enter('images.build', spec.ref);
    const outcome = this.buildBehaviour(spec);
    let output = outcome.output ?? '';
    if (outcome.durationMs !== undefined && outcome.durationMs > spec.timeoutMs) {
      return { exitCode: 124, output: `${output}\nthe install script did not finish within ${spec.timeoutMs} ms and was killed\n` };
    }
    const exitCode = outcome.exitCode ?? 0;
    if (exitCode !== 0) return { exitCode, output };
    const id = `sha256:${this.prefix}image${++this.sequence}`;
    if (spec.check) {
      const checkExitCode = outcome.checkExitCode ?? 0;
      if (checkExitCode !== 0) {
        output += `\nthe check '${spec.check.join(' ')}' exited with ${checkExitCode}: the image is not kept\n`;
        return { exitCode, checkExitCode, output };
      }
      this.refs.set(spec.ref, { id, labels: { ...spec.labels } });
      return { exitCode, checkExitCode, output, imageId: id };
    }
    this.refs.set(spec.ref, { id, labels: { ...spec.labels } });
    return { exitCode, output, imageId: id };
  }

  async save(ref: string): Promise<NodeJS.ReadableStream> {
    await this.enter('images.save', ref);
    const image = this.refs.get(ref);
    if (!image) throw new NotFoundError(`image '${ref}' is not on the node`);
    const archive: FakeArchive = { fakeImages: [{ ref, ...image }] };
    return Readable.from([Buffer.from(JSON.stringify(archive))]);
  }

  async load(archive: NodeJS.ReadableStream): Promise<void> {
    await this.enter('images.load');
    const chunks: Buffer[] = [];
    let parsed: FakeArchive;
    try {
      for await (const chunk of archive as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as FakeArchive;
      if (!Array.isArray(parsed.fakeImages)) throw new Error('no images');
    } catch (err) {
      throw new InfrastructureError(`load an image archive failed: ${(err as Error).message}`);
    }
    for (const image of parsed.fakeImages) this.refs.set(image.ref, { id: image.id, labels: { ...image.labels } });
  }

  async remove(ref: string): Promise<void> {
    await this.enter('images.remove', ref);
    if (!this.refs.has(ref)) return;
    if (this.inUse(ref)) throw new ConflictError(`image '${ref}' is in use by a task`);
    this.refs.delete(ref);
  }
}
