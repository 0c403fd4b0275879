import { ConflictError, errorMessage, NotFoundError } from '../../domain/errors';
import { JobTemplate, templateImage } from '../../domain/job';
import { Vm } from '../../domain/vm';
import { log } from '../../log';
import { ImageBuildResult, ImageBuildSpec } from '../../ports/container-runtime';
import { JobStore } from '../../ports/job-store';
import { parseJobTemplate } from '../../schema/job-template';

/**
 * What jobs need of images on the nodes: building a template's image from its install script on one
 * node, getting an image onto the node a job is placed on (copied from another node that has it,
 * without a registry), and which nodes have one.
 */
export interface TemplateImages {
  build(node: Vm, spec: ImageBuildSpec): Promise<ImageBuildResult>;
  ensureOn(ref: string, target: Vm, sources: readonly Vm[]): Promise<'present' | 'copied'>;
  whereIs(ref: string, nodes: readonly Vm[]): Promise<string[]>;
}

/** The ready nodes a template can be validated on. */
export type ReadyNodes = () => Vm[];

const INSTALL_TIMEOUT_MS = 15 * 60_000;
const MAX_SCRIPT_BYTES = 1024 * 1024;

/**
 * Job templates: kept in the store and in memory (the scheduler reads them at every pass), validated
 * after each PUT: an `image` template is ready once a ready node has the image; an `install`
 * template runs its script on one ready node and keeps the result as `ecoware-job/<name>:<rev>`.
 * A template validated while no node is ready stays `validating` and is tried again (`revalidate`).
 */
export class JobTemplates {
  private readonly templates = new Map<string, JobTemplate>();
  private readonly validating = new Map<string, Promise<void>>();

  constructor(
    private readonly store: JobStore,
    private readonly images: TemplateImages,
    private readonly readyNodes: ReadyNodes,
    private readonly options: { keepLogsKib?: number; onChange?: (t: JobTemplate) => void; fetchScript?: (url: string) => Promise<string> } = {},
  ) {}

  async load(): Promise<void> {
    for (const t of await this.store.listTemplates()) this.templates.set(t.name, t);
  }

  get(name: string): JobTemplate | undefined {
    return this.templates.get(name);
  }

  list(): JobTemplate[] {
    return [...this.templates.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Creates or replaces a template (a new revision); its validation runs after the answer. */
  async put(name: string, body: unknown): Promise<{ template: JobTemplate; created: boolean }> {
    const input = parseJobTemplate(name, body, { keepLogsKib: this.options.keepLogsKib });
    const earlier = this.templates.get(name);
    const now = new Date().toISOString();
    const template: JobTemplate = {
      name, rev: (earlier?.rev ?? 0) + 1, status: 'validating', ...input,
      created_at: earlier?.created_at ?? now, updated_at: now,
    };
    await this.store.putTemplate(template);
    this.templates.set(name, template);
    this.options.onChange?.(template);
    void this.validate(template);
    return { template, created: earlier === undefined };
  }

  requireTemplate(name: string): JobTemplate {
    const t = this.templates.get(name);
    if (!t) throw new NotFoundError(`no job template named '${name.slice(0, 80)}'`);
    return t;
  }

  async delete(name: string): Promise<void> {
    if (!this.templates.has(name)) throw new NotFoundError(`no job template named '${name.slice(0, 80)}'`);
    await this.store.deleteTemplate(name);
    this.templates.delete(name);
  }

  /** Tries again the templates still `validating` (nodes became ready). */
  revalidate(): void {
    for (const t of this.templates.values()) if (t.status === 'validating') void this.validate(t);
  }

  /** Resolves when the template's validation under way, if any, is over. */
  async settled(name: string): Promise<void> {
    await this.validating.get(name);
  }

  private validate(template: JobTemplate): Promise<void> {
    const key = `${template.name}:${template.rev}`;
    const running = this.validating.get(template.name);
    if (running && (running as Promise<void> & { key?: string }).key === key) return running;
    const work = this.runValidation(template).finally(() => {
      if (this.validating.get(template.name) === work) this.validating.delete(template.name);
    }) as Promise<void> & { key?: string };
    work.key = key;
    this.validating.set(template.name, work);
    return work;
  }

  private async runValidation(template: JobTemplate): Promise<void> {
    const nodes = this.readyNodes();
    if (nodes.length === 0) return; // stays validating until a node is ready
    let outcome: { status: 'ready' | 'rejected'; reason?: string };
    try {
      outcome = template.install ? await this.install(template, nodes[0]) : await this.findImage(template, nodes);
    } catch (e) {
      outcome = { status: 'rejected', reason: errorMessage(e) };
    }
    const current = this.templates.get(template.name);
    if (!current || current.rev !== template.rev) return; // replaced or deleted meanwhile
    const settled: JobTemplate = { ...current, status: outcome.status, updated_at: new Date().toISOString() };
    if (outcome.reason !== undefined) settled.reason = outcome.reason;
    else delete settled.reason;
    await this.store.putTemplate(settled);
    this.templates.set(settled.name, settled);
    log.info({ template: settled.name, rev: settled.rev, status: settled.status, reason: settled.reason }, `job template ${settled.status}`);
    this.options.onChange?.(settled);
  }

  /** The ready nodes that have a template's image (POD's "workers" of an activity). */
  async nodesWithImage(name: string): Promise<string[]> {
    const template = this.requireTemplate(name);
    return this.images.whereIs(templateImage(template), this.readyNodes());
  }

  private async findImage(template: JobTemplate, nodes: Vm[]): Promise<{ status: 'ready' | 'rejected'; reason?: string }> {
    const image = templateImage(template);
    const where = await this.images.whereIs(image, nodes);
    if (where.length > 0) return { status: 'ready' };
    return { status: 'rejected', reason: `image '${image}' is on no ready node (${nodes.map((n) => n.name).join(', ')}): load or pull it on one, then PUT the template again` };
  }

  private async install(template: JobTemplate, node: Vm): Promise<{ status: 'ready' | 'rejected'; reason?: string }> {
    const install = template.install!;
    const script = install.script ?? await this.fetchScript(install.script_url!);
    const command = template.command ?? ['./main.sh'];
    const ref = templateImage(template);
    const cwd = template.cwd ?? '/ecoware/app';
    const result = await this.images.build(node, {
      baseImage: install.base_image, script, cwd, ref, command,
      // The command must be runnable once installed: an executable file, or a program on the PATH.
      check: ['/bin/sh', '-c', 'test -x "$1" || command -v "$1" >/dev/null', 'check', command[0]],
      timeoutMs: INSTALL_TIMEOUT_MS,
      labels: { 'ecoware.job.template': template.name, 'ecoware.job.template.rev': String(template.rev) },
    });
    if (result.exitCode !== 0) return { status: 'rejected', reason: `the install script exited with ${result.exitCode} on node '${node.name}': ${result.output.slice(-2000)}` };
    if (result.checkExitCode !== undefined && result.checkExitCode !== 0) {
      return { status: 'rejected', reason: `after the install, '${command[0]}' is not runnable in ${cwd}: ${result.output.slice(-2000)}` };
    }
    return { status: 'ready' };
  }

  private async fetchScript(url: string): Promise<string> {
    if (this.options.fetchScript) return this.options.fetchScript(url);
    const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    if (!response.ok) throw new ConflictError(`install.script_url: fetching ${url} answered ${response.status}`);
    const text = await response.text();
    if (Buffer.byteLength(text) > MAX_SCRIPT_BYTES) throw new ConflictError(`install.script_url: the script at ${url} is over 1 MiB`);
    return text;
  }
}
