import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import { ConflictError, InfrastructureError, NotFoundError } from '../../domain/errors';
import { ImageBuildResult, ImageBuildSpec, RuntimeImages } from '../../ports/container-runtime';
import { shortId } from './docker-container-body';
import { EngineCall } from './engine-call';
import { FrameSplitter } from './exec-output';
import { LABEL_IMAGE_BUILD, LABEL_MANAGED } from './labels';

/** How much of a build's combined output is kept for its result. */
export const BUILD_OUTPUT_BYTES = 8 * 1024;
/** The exit code a build reports when its script outlived its time (as `timeout(1)` does). */
export const TIMED_OUT_EXIT_CODE = 124;

/**
 * The images of one engine, for jobs: presence, building a template's image from an install script
 * (what a Dockerfile `FROM base` / `RUN script` / `WORKDIR cwd` / `CMD command` / `LABEL` makes, without
 * a builder: a container of the base image runs the script and is committed), and moving images
 * between engines as `docker save` archives, so no registry is needed.
 */
export class DockerImages implements RuntimeImages {
  constructor(
    private readonly docker: Docker,
    private readonly call: EngineCall,
    /** Pulls an image the engine lacks (the base image of a build). */
    private readonly pull: (image: string) => Promise<void>,
    /** Budget of loading an archive (like a pull's). */
    private readonly loadTimeoutMs: number,
  ) {}

  async has(ref: string): Promise<boolean> {
    return (await this.inspect(ref)) !== undefined;
  }

  async build(spec: ImageBuildSpec): Promise<ImageBuildResult> {
    let base = await this.inspect(spec.baseImage);
    if (!base) {
      await this.pull(spec.baseImage);
      base = await this.inspect(spec.baseImage);
      if (!base) throw new NotFoundError(`base image '${spec.baseImage}' is not on the node`);
    }
    const output = new OutputTail(BUILD_OUTPUT_BYTES);
    const containers: string[] = [];
    // An image committed from a tier's container carries the managed mark, and containers inherit
    // their image's labels: overridden, so that drift repair never takes a build for a stray tier.
    const labels = { [LABEL_IMAGE_BUILD]: spec.ref, [LABEL_MANAGED]: '' };
    try {
      // The engine creates the working directory when the image lacks it.
      const script = await this.createContainer({
        Image: spec.baseImage, Entrypoint: ['/bin/sh', '-c'], Cmd: [spec.script], WorkingDir: spec.cwd, Labels: labels,
      }, `create the build container of '${spec.ref}'`, containers);
      const exitCode = await this.runToEnd(script, spec.timeoutMs, output, 'the install script');
      if (exitCode !== 0) return { exitCode, output: output.text() };

      const committed = await this.call(`commit the image '${spec.ref}'`, (abortSignal) => this.docker.getContainer(script).commit({
        _query: { container: script, ...splitRef(spec.ref) },
        // Like the Dockerfile: the base image's entrypoint stays (none: an empty one, not the script's shell).
        _body: { Entrypoint: base!.Config?.Entrypoint ?? [], Cmd: spec.command, WorkingDir: spec.cwd, Labels: spec.labels },
        abortSignal,
      }) as Promise<{ Id: string }>);
      if (!spec.check) return { exitCode, output: output.text(), imageId: committed.Id };

      const check = await this.createContainer({
        Image: spec.ref, Entrypoint: [], Cmd: spec.check, Labels: labels,
      }, `create the check container of '${spec.ref}'`, containers);
      const checkExitCode = await this.runToEnd(check, spec.timeoutMs, output, `the check '${spec.check.join(' ')}'`);
      if (checkExitCode !== 0) {
        output.append(Buffer.from(`\nthe check '${spec.check.join(' ')}' exited with ${checkExitCode}: the image is not kept\n`));
        await this.removeContainers(containers);
        await this.remove(spec.ref);
        return { exitCode, checkExitCode, output: output.text() };
      }
      return { exitCode, checkExitCode, output: output.text(), imageId: committed.Id };
    } finally {
      await this.removeContainers(containers);
    }
  }

  async save(ref: string): Promise<NodeJS.ReadableStream> {
    // The engine answers a missing image with an error inside a 200 stream or a 500: asked first.
    if (!(await this.has(ref))) throw new NotFoundError(`image '${ref}' is not on the node`);
    return this.call(`save the image '${ref}'`, () => this.docker.getImage(ref).get() as Promise<Readable>);
  }

  async load(archive: NodeJS.ReadableStream): Promise<void> {
    await this.call('load an image archive', async (abortSignal) => {
      // An archive that fails on its way (its source engine went away) ends the upload at once:
      // the engine would otherwise wait for the rest of the body until the budget runs out.
      const upload = new AbortController();
      abortSignal.addEventListener('abort', () => upload.abort(), { once: true });
      const failed = new Promise<never>((_, reject) => archive.on('error', (err: Error) => {
        upload.abort();
        reject(new Error(`the archive failed on its way: ${err.message}`));
      }));
      failed.catch(() => undefined);
      const response = await Promise.race([
        this.docker.loadImage(archive, { _query: { quiet: '1' }, abortSignal: upload.signal } as object) as Promise<Readable>, failed,
      ]);
      const text = await Promise.race([readAll(response), failed]);
      // The engine reports a bad archive as a JSON line in a 200 answer.
      for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
        let message: { error?: string; errorDetail?: { message?: string } };
        try { message = JSON.parse(line) as typeof message; } catch { continue; }
        if (message.error) throw new Error(message.errorDetail?.message ?? message.error);
      }
    }, this.loadTimeoutMs);
  }

  async remove(ref: string): Promise<void> {
    try {
      await this.call(`remove the image '${ref}'`, (abortSignal) => this.docker.getImage(ref).remove({ abortSignal }));
    } catch (err) {
      if (err instanceof NotFoundError) return;
      if (err instanceof InfrastructureError && (err.cause as { statusCode?: number } | undefined)?.statusCode === 409) {
        throw new ConflictError(`image '${ref}' is in use: ${err.message}`);
      }
      throw err;
    }
  }

  private async inspect(ref: string): Promise<Docker.ImageInspectInfo | undefined> {
    try {
      return await this.call(`inspect the image '${ref}'`, () => this.docker.getImage(ref).inspect());
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  private async createContainer(body: Docker.ContainerCreateOptions, operation: string, made: string[]): Promise<string> {
    const container = await this.call(operation, (abortSignal) => this.docker.createContainer({ ...body, abortSignal }));
    made.push(container.id);
    return container.id;
  }

  /**
   * Starts a container and waits for its exit, at most `timeoutMs` (then it is killed and the exit
   * code is TIMED_OUT_EXIT_CODE); its output goes to `output`, stdout and stderr in their order.
   */
  private async runToEnd(id: string, timeoutMs: number, output: OutputTail, what: string): Promise<number> {
    const container = this.docker.getContainer(id);
    await this.call(`start ${what} (container ${shortId(id)})`, (abortSignal) => container.start({ abortSignal }));
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let timedOut = false;
    try {
      await container.wait({ condition: 'not-running', abortSignal: controller.signal });
    } catch (err) {
      if (!controller.signal.aborted) throw new InfrastructureError(`wait for ${what} failed: ${(err as Error).message}`, 'infrastructure', err);
      timedOut = true;
      await this.call(`stop ${what} (container ${shortId(id)})`, (abortSignal) => container.kill({ abortSignal })).catch(() => undefined);
      await this.call(`wait for ${what} (container ${shortId(id)})`, (abortSignal) => container.wait({ condition: 'not-running', abortSignal }));
    } finally {
      clearTimeout(timer);
    }
    await this.collectOutput(id, output);
    if (timedOut) {
      output.append(Buffer.from(`\n${what} did not finish within ${timeoutMs} ms and was killed\n`));
      return TIMED_OUT_EXIT_CODE;
    }
    const info = await this.call(`inspect container ${shortId(id)}`, (abortSignal) => container.inspect({ abortSignal }));
    return info.State.ExitCode;
  }

  /** The exited container's output, streamed (an install can print megabytes; the tail is kept). */
  private async collectOutput(id: string, output: OutputTail): Promise<void> {
    const frames = new FrameSplitter((_, payload) => output.append(payload));
    await this.call(`read the output of container ${shortId(id)}`, async (abortSignal) => {
      const stream = await this.docker.getContainer(id).logs({ stdout: true, stderr: true, follow: true, abortSignal }) as unknown as Readable;
      await new Promise<void>((resolve, reject) => {
        stream.on('data', (chunk: Buffer) => frames.push(chunk));
        stream.once('end', resolve);
        stream.once('error', reject);
      });
    });
  }

  private async removeContainers(ids: string[]): Promise<void> {
    for (const id of ids.splice(0)) {
      await this.call(`remove container ${shortId(id)}`, (abortSignal) => this.docker.getContainer(id).remove({ force: true, v: true, abortSignal }))
        .catch(() => undefined);
    }
  }
}

/** `ecoware-job/name:rev` → repo and tag (a port in the registry part is no tag). */
export function splitRef(ref: string): { repo: string; tag: string } {
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: 'latest' };
}

/** The last `maxBytes` of a stream of output. */
class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxBytes: number) {}

  append(data: Buffer): void {
    this.chunks.push(Buffer.from(data));
    this.size += data.length;
    if (this.size > 2 * this.maxBytes) this.compact();
  }

  text(): string {
    this.compact();
    const kept = Buffer.concat(this.chunks);
    // The cut may fall inside a UTF-8 character: its continuation bytes are left out.
    let start = 0;
    while (start < kept.length && start < 3 && (kept[start]! & 0xc0) === 0x80) start++;
    return kept.subarray(start).toString('utf8');
  }

  private compact(): void {
    const all = Buffer.concat(this.chunks);
    const kept = all.length > this.maxBytes ? all.subarray(all.length - this.maxBytes) : all;
    this.chunks = [kept];
    this.size = kept.length;
  }
}

function readAll(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.once('error', reject);
  });
}
