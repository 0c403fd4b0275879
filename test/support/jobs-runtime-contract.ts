import { randomBytes } from 'node:crypto';
import { ConflictError, InfrastructureError, NotFoundError } from '../../src/domain/errors';
import { ContainerRuntime, ImageBuildSpec, RuntimeImages, RuntimeTasks, TaskSpec, TaskStream } from '../../src/ports/container-runtime';

/** What a runtime under the jobs contract is given by its test file. */
export interface JobsContractSubject {
  runtime: ContainerRuntime;
  /** A new client of the same engine, as the daemon has after a restart. */
  reconnect(): ContainerRuntime;
  /** An image the engine has, with busybox's `sh`, `cat`, `tr`, `head`, `tail`, `sleep`. */
  image: string;
  /** Labels every task of the suite carries, so that the test file can clean up. */
  labels: Record<string, string>;
  /** Removes the tasks and images the suite left (after each test). */
  cleanup(): Promise<void>;
}

/** Image references the suite builds start with this (test files clean up by it). */
export const CONTRACT_IMAGE_PREFIX = 'contract-job/';

/**
 * The scripts the suite runs. A real engine runs them in busybox; a fake is told by its test file
 * what each does (test/drivers/fake-jobs-contract.unit.test.ts), so both are held to the same
 * observable results.
 */
export const CONTRACT_SCRIPTS = {
  stdinEcho: ['cat'],
  fileInOut: ['sh', '-c', 'tr a-z A-Z < /ecoware/input > /ecoware/output'],
  twoStreams: ['sh', '-c', 'echo out; echo err >&2; exit 3'],
  slowOutput: ['sh', '-c', 'echo first; sleep 2; echo second'],
  trapsTerm: ['sh', '-c', 'trap "echo stopping; exit 7" TERM; echo ready; sleep 300 & wait'],
  ignoresTerm: ['sleep', '300'],
  overMemory: ['sh', '-c', 'head -c 200m /dev/zero | tail'],
  idle: ['sleep', '300'],
  install: `printf '#!/bin/sh\\necho "main got $1"\\n' > main.sh && chmod +x main.sh && echo installed`,
  failingInstall: 'echo "cannot fetch the activity" >&2; exit 3',
  notExecutable: 'echo "echo hi" > main.sh',
  slowInstall: 'sleep 60',
} as const;

/**
 * The contract of the optional jobs capabilities of the container-runtime port (`tasks`, `images`),
 * run against the fake (unit tier) and a real engine (integration), like runtime-contract.ts for
 * the required part. Only the port is used, never the engine behind it.
 */
export function jobsRuntimeContract(name: string, subject: () => JobsContractSubject): void {
  describe(`${name}: the tasks and images contract`, () => {
    let s: JobsContractSubject;
    let tasks: RuntimeTasks;
    let images: RuntimeImages;
    const run = randomBytes(4).toString('hex');
    let count = 0;
    const spec = (overrides: Partial<TaskSpec> = {}): TaskSpec => ({
      name: `contract-task-${run}-${++count}`, image: s.image, argv: [...CONTRACT_SCRIPTS.idle], env: {},
      cpuset: [0], memoryMb: 64, labels: { ...s.labels, 'job': `job-${count}`, 'attempt': '1' }, ...overrides,
    });
    const output = async (id: string) => {
      const text: Record<TaskStream, string> = { stdout: '', stderr: '' };
      await tasks.logs(id, { follow: false, onChunk: (stream, data) => { text[stream] += data.toString(); } });
      return text;
    };
    const waitForOutput = async (id: string, needle: string) => {
      for (let i = 0; i < 200; i++) {
        if ((await output(id)).stdout.includes(needle)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`task ${id} never printed '${needle}'`);
    };

    beforeAll(() => {
      s = subject();
      expect(s.runtime.tasks).toBeDefined();
      expect(s.runtime.images).toBeDefined();
      tasks = s.runtime.tasks!;
      images = s.runtime.images!;
    });
    afterEach(async () => { await s.cleanup(); });

    describe('tasks', () => {
      it('feeds stdin to the process, which reads it to its end', async () => {
        const input = 'line one\nline two\n'.repeat(1000);
        const started = await tasks.start(spec({ argv: [...CONTRACT_SCRIPTS.stdinEcho], stdin: Buffer.from(input) }));
        const ended = await tasks.wait(started.id);
        expect(ended).toMatchObject({ state: 'exited', exitCode: 0, oomKilled: false });
        expect((await output(started.id)).stdout).toBe(input);
      });

      it('places an input file before the start and reads the output file back after the exit, at most maxBytes', async () => {
        const started = await tasks.start(spec({
          argv: [...CONTRACT_SCRIPTS.fileInOut], files: [{ path: '/ecoware/input', content: Buffer.from('hello, jobs') }],
        }));
        expect((await tasks.wait(started.id)).exitCode).toBe(0);
        expect(await tasks.readFile(started.id, '/ecoware/output', 1024)).toEqual({ content: Buffer.from('HELLO, JOBS'), truncated: false });
        expect(await tasks.readFile(started.id, '/ecoware/output', 5)).toEqual({ content: Buffer.from('HELLO'), truncated: true });
        expect(await tasks.readFile(started.id, '/ecoware/none', 1024)).toBeUndefined();
      });

      it('keeps stdout and stderr apart and reports the exit code', async () => {
        const started = await tasks.start(spec({ argv: [...CONTRACT_SCRIPTS.twoStreams] }));
        const ended = await tasks.wait(started.id);
        expect(ended).toMatchObject({ state: 'exited', exitCode: 3, oomKilled: false });
        expect(ended.finishedAt).toBeDefined();
        expect(await output(started.id)).toEqual({ stdout: 'out\n', stderr: 'err\n' });
        // Waiting again for a task that has exited answers at once, the same.
        expect((await tasks.wait(started.id)).exitCode).toBe(3);
      });

      it('streams the output of a running task as it comes, and ends the follow when the task exits', async () => {
        const started = await tasks.start(spec({ argv: [...CONTRACT_SCRIPTS.slowOutput] }));
        let exited = false;
        const seen: { text: string; exited: boolean }[] = [];
        const waited = tasks.wait(started.id).then((state) => { exited = true; return state; });
        await tasks.logs(started.id, { follow: true, onChunk: (stream, data) => seen.push({ text: data.toString(), exited }) });
        expect(seen[0]).toEqual({ text: 'first\n', exited: false });
        expect(seen.map((c) => c.text).join('')).toBe('first\nsecond\n');
        expect((await waited).exitCode).toBe(0);
      });

      it('follows the output from a time on, and ends a wait or a follow when asked', async () => {
        const started = await tasks.start(spec({ argv: [...CONTRACT_SCRIPTS.slowOutput] }));
        await waitForOutput(started.id, 'first');
        // A moment after the first line: a time in milliseconds cannot tell apart what happened within one.
        await new Promise((r) => setTimeout(r, 20));
        const since = Date.now();
        const controller = new AbortController();
        const waited = tasks.wait(started.id, controller.signal);
        controller.abort(new Error('no longer wanted'));
        await expect(waited).rejects.toThrow('no longer wanted');
        const cut = new AbortController();
        const following = tasks.logs(started.id, { follow: true, signal: cut.signal, onChunk: () => undefined });
        cut.abort();
        await following;
        const later: string[] = [];
        await tasks.logs(started.id, { follow: true, since, onChunk: (_, data) => later.push(data.toString()) });
        expect(later.join('')).toBe('second\n');
        expect((await tasks.inspect(started.id))?.state).toBe('exited');
      });

      it('stops a task that ends on SIGTERM at once, and kills one that ignores it after the grace', async () => {
        const polite = await tasks.start(spec({ argv: [...CONTRACT_SCRIPTS.trapsTerm] }));
        const stubborn = await tasks.start(spec({ argv: [...CONTRACT_SCRIPTS.ignoresTerm] }));
        await waitForOutput(polite.id, 'ready');
        let since = Date.now();
        await tasks.stop(polite.id, 20);
        expect(Date.now() - since).toBeLessThan(10_000);
        expect(await tasks.inspect(polite.id)).toMatchObject({ state: 'exited', exitCode: 7 });
        since = Date.now();
        await tasks.stop(stubborn.id, 2);
        expect(Date.now() - since).toBeGreaterThanOrEqual(1_900);
        expect(await tasks.inspect(stubborn.id)).toMatchObject({ state: 'exited', exitCode: 137 });
        // Stopping what has ended is no error.
        await tasks.stop(stubborn.id, 2);
      });

      it('reports a task killed for going over its memory limit', async () => {
        const started = await tasks.start(spec({ argv: [...CONTRACT_SCRIPTS.overMemory], memoryMb: 32 }));
        const ended = await tasks.wait(started.id);
        expect(ended).toMatchObject({ state: 'exited', oomKilled: true });
        expect(ended.exitCode).not.toBe(0);
      });

      it('pins the task to the cores asked, and keeps it out of the managed containers', async () => {
        const last = Math.max(0, (await s.runtime.info()).cpus - 1);
        const started = await tasks.start(spec({ cpuset: [last], memoryMb: 48 }));
        expect(started).toMatchObject({ state: 'running', cpuset: [last], memoryBytes: 48 * 2 ** 20 });
        expect((await s.runtime.listManaged()).map((c) => c.id)).not.toContain(started.id);
        expect((await s.runtime.listManagedStates()).map((c) => c.id)).not.toContain(started.id);
      });

      it('lists a task with its labels from a new client, and removes it, again without complaint', async () => {
        const wanted = spec();
        const started = await tasks.start(wanted);
        const listed = (await s.reconnect().tasks!.list()).find((t) => t.id === started.id);
        expect(listed).toMatchObject({ name: wanted.name, labels: wanted.labels, state: 'running' });
        await tasks.remove(started.id);
        await tasks.remove(started.id);
        expect(await tasks.inspect(started.id)).toBeUndefined();
        expect((await tasks.list()).map((t) => t.id)).not.toContain(started.id);
      });

      it('replaces a task of the same name', async () => {
        const wanted = spec();
        const first = await tasks.start(wanted);
        const second = await tasks.start(wanted);
        expect(second.id).not.toBe(first.id);
        expect((await tasks.list()).filter((t) => t.name === wanted.name).map((t) => t.id)).toEqual([second.id]);
      });
    });

    describe('images', () => {
      const build = (overrides: Partial<ImageBuildSpec> = {}): ImageBuildSpec => ({
        baseImage: s.image, script: CONTRACT_SCRIPTS.install, cwd: '/opt/activity', ref: `${CONTRACT_IMAGE_PREFIX}${run}-${++count}:1`,
        command: ['./main.sh'], check: ['test', '-x', 'main.sh'], timeoutMs: 60_000, labels: { ...s.labels }, ...overrides,
      });

      it('builds an image whose command runs in its working directory, and removes it, again without complaint', async () => {
        const wanted = build();
        const result = await images.build(wanted);
        expect(result).toMatchObject({ exitCode: 0, checkExitCode: 0 });
        expect(result.imageId).toBeTruthy();
        expect(result.output).toContain('installed');
        expect(await images.has(wanted.ref)).toBe(true);
        const task = await tasks.start(spec({ image: wanted.ref, argv: ['./main.sh', 'x'] }));
        expect((await tasks.wait(task.id)).exitCode).toBe(0);
        expect((await output(task.id)).stdout).toBe('main got x\n');
        // The task's container, exited, still holds the image.
        await expect(images.remove(wanted.ref)).rejects.toBeInstanceOf(ConflictError);
        await tasks.remove(task.id);
        await images.remove(wanted.ref);
        await images.remove(wanted.ref);
        expect(await images.has(wanted.ref)).toBe(false);
      });

      it('keeps no image when the script fails, and says why', async () => {
        const wanted = build({ script: CONTRACT_SCRIPTS.failingInstall });
        const result = await images.build(wanted);
        expect(result.exitCode).toBe(3);
        expect(result.output).toContain('cannot fetch the activity');
        expect(result.imageId).toBeUndefined();
        expect(await images.has(wanted.ref)).toBe(false);
      });

      it('keeps no image when the check fails', async () => {
        const wanted = build({ script: CONTRACT_SCRIPTS.notExecutable });
        const result = await images.build(wanted);
        expect(result.exitCode).toBe(0);
        expect(result.checkExitCode).not.toBe(0);
        expect(result.imageId).toBeUndefined();
        expect(await images.has(wanted.ref)).toBe(false);
      });

      it('stops a script that outlives its time, keeping no image', async () => {
        const wanted = build({ script: CONTRACT_SCRIPTS.slowInstall, timeoutMs: 1_000 });
        const since = Date.now();
        const result = await images.build(wanted);
        expect(Date.now() - since).toBeLessThan(20_000);
        expect(result.exitCode).toBe(124);
        expect(result.output).toMatch(/did not finish within 1000 ms/);
        expect(await images.has(wanted.ref)).toBe(false);
      });

      it('saves an image as an archive that loads back after it was removed', async () => {
        const wanted = build();
        expect((await images.build(wanted)).imageId).toBeTruthy();
        const chunks: Buffer[] = [];
        for await (const chunk of await images.save(wanted.ref) as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
        await images.remove(wanted.ref);
        expect(await images.has(wanted.ref)).toBe(false);
        const { Readable } = await import('node:stream');
        await images.load(Readable.from([Buffer.concat(chunks)]));
        expect(await images.has(wanted.ref)).toBe(true);
      });

      it('refuses to save an image that is not there, and to load what is no archive', async () => {
        await expect(images.save(`${CONTRACT_IMAGE_PREFIX}${run}-never:1`)).rejects.toBeInstanceOf(NotFoundError);
        const { Readable } = await import('node:stream');
        await expect(images.load(Readable.from([Buffer.from('not an image archive')]))).rejects.toBeInstanceOf(InfrastructureError);
      });
    });
  });
}
