import { Job } from '../../src/domain/job';
import { buildApp } from '../../src/http/app';
import { JobRunner } from '../../src/use-cases/jobs/job-runner';
import { JobScheduler } from '../../src/use-cases/jobs/job-scheduler';
import { JobTemplates } from '../../src/use-cases/jobs/job-templates';
import { Jobs } from '../../src/use-cases/jobs/jobs';
import { loadTopology } from '../../src/use-cases/topology/load-topology';
import { fakeDaemon } from './fake-daemon';
import { FakeTaskEngines, FakeTemplateImages } from './fake-tasks';
import { shopTopology } from './topologies';

/**
 * The jobs' use cases over fake engines (fake-tasks.ts) on a static pool of two nodes n1 and n2,
 * with the real SQLite state, the real allocator for plans, and the HTTP app (`app`).
 */
export type Harness = Awaited<ReturnType<typeof harness>>;

export async function harness(options: { cores?: number } = {}) {
  const d = await fakeDaemon({ elastic: false });
  const cores = options.cores ?? 2;
  await loadTopology(d.knowledge, d.services, shopTopology({
    nodes: [{ name: 'n1', docker: 'tcp://n1:2375', cpu_cores: cores, mem_units: 8 }, { name: 'n2', docker: 'tcp://n2:2375', cpu_cores: cores, mem_units: 8 }],
  }));
  const tasks = new FakeTaskEngines();
  const images = new FakeTemplateImages();
  images.put('busybox', 'n1');
  images.put('busybox', 'n2');
  const build = () => {
    const templates = new JobTemplates(d.state.jobs, images, () => Jobs.readyNodes(d.knowledge));
    const runner = new JobRunner(tasks.runtimeFor, images, d.state.jobs);
    const scheduler = new JobScheduler(d.knowledge, tasks.runtimeFor, d.state.jobs, templates, runner, d.bus, { tickMs: 60_000 });
    const jobs = new Jobs(d.knowledge, tasks.runtimeFor, d.state.jobs, templates, scheduler, d.state.processDefinitions);
    return { templates, scheduler, jobs };
  };
  let parts = build();
  await parts.templates.load();
  await parts.scheduler.start();
  return {
    d, tasks, images,
    get app() { return buildApp({ knowledge: d.knowledge, services: d.services, queue: d.queue, executions: d.executions, events: d.bus, jobs: parts.jobs }); },
    get jobs() { return parts.jobs; },
    get scheduler() { return parts.scheduler; },
    async template(name: string, body: Record<string, unknown> = {}) {
      await parts.jobs.putTemplate(name, { image: 'busybox', command: ['work'], ...body });
      await parts.templates.settled(name);
      return parts.templates.get(name)!;
    },
    async dispatch(body: Record<string, unknown>): Promise<Job> {
      return (await parts.jobs.dispatch(body)).job;
    },
    async job(id: string) { return parts.jobs.get(id); },
    /** A daemon stop and start on the same state and engines. */
    async restart() {
      await parts.scheduler.stop();
      parts = build();
      await parts.templates.load();
      await parts.scheduler.start();
    },
    async close() {
      await parts.scheduler.stop();
      await d.close();
    },
  };
}

export async function until<T>(read: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`condition not met in time; last value: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

