import { promises as fs } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { DaemonClient, DaemonUnreachableError, errorOf, withDaemonUrl } from './daemon-client';
import { CliError, EXIT_FAILED, EXIT_REFUSED } from './exit-codes';
import { printTable } from './table';
import { nonNegativeInteger, positiveNumber, printJson, readJsonInput } from './input';

/** A job as the daemon answers it (SPEC §10); only what the command line shows. */
interface JobAnswer {
  id: string;
  status: string;
  template: string;
  position?: number;
  reason?: string;
  submitted_at?: string;
  output?: string | null;
  attempts?: { n: number; node?: string; exit_code?: number | null; reason?: string; message?: string }[];
}

/** A job as `GET /api/jobs` lists it. */
interface JobSummary { id: string; template: string; status: string; attempts?: number; node?: string; exit_code?: number; reason?: string }

const TERMINAL = new Set(['succeeded', 'failed', 'timed_out', 'cancelled']);

/** How long `jobs cancel` waits for a running job to stop (its grace is 10 s). */
const CANCEL_WAIT_S = 30;

/** What `jobs run --wait` exits with when the job has no exit code of its own: `timeout`'s 124, a shell's 130 for a cancel. */
export const EXIT_JOB_TIMED_OUT = 124;
export const EXIT_JOB_CANCELLED = 130;

/**
 * The exit code of `jobs run --wait`: the job's own exit code when its last attempt exited,
 * 124 for a timeout (as `timeout(1)`), 130 for a cancel, 1 for anything else that did not succeed.
 */
export function exitCodeOfJob(job: JobAnswer): number {
  if (job.status === 'succeeded') return 0;
  if (job.status === 'timed_out') return EXIT_JOB_TIMED_OUT;
  if (job.status === 'cancelled') return EXIT_JOB_CANCELLED;
  const last = job.attempts?.[job.attempts.length - 1];
  if (typeof last?.exit_code === 'number' && last.exit_code > 0 && last.exit_code < 256) return last.exit_code;
  return EXIT_FAILED;
}

/** `KEY=VALUE`, collected into a map (repeatable option). */
function envPair(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`'${value}' is not KEY=VALUE.`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/**
 * `ecoware-executor jobs run|ls|show|logs|cancel` and `templates put|ls|show|rm`: jobs on a running
 * daemon (`/api/jobs`, `/api/job-templates`). `jobs run --wait` follows the job's output on the
 * terminal (stdout to stdout, stderr to stderr) and exits with the job's exit code.
 */
export function register(program: Command): void {
  const jobs = program.command('jobs').description('dispatch jobs, follow their output, cancel them');

  withDaemonUrl(jobs.command('run')
    .description("dispatch a job of a template; with --wait follow its output and exit with the job's exit code")
    .argument('<template>', 'template name (or process:<id> for a process definition of type single)')
    .option('--input <text>', "the job's input (as $1, on stdin or in /ecoware/input, as the template says)")
    .option('--input-file <file>', 'read the input from a file (- for standard input)')
    .option('--env <KEY=VALUE>', 'an environment variable (repeatable)', envPair)
    .option('--timeout <seconds>', 'timeout of each attempt, overriding the template', positiveNumber)
    .option('--priority <n>', 'higher runs first (default 0)', (v) => Number.parseInt(v, 10))
    .option('--idempotency-key <key>', 'the same key answers the job already dispatched with it')
    .option('--wait', "follow the job's output until it ends and exit with its exit code")
    .option('--json', 'print the JSON answer'))
    .action(async (template: string, opts: {
      input?: string; inputFile?: string; env?: Record<string, string>; timeout?: number; priority?: number;
      idempotencyKey?: string; wait?: boolean; json?: boolean; url: string;
    }) => {
      if (opts.input !== undefined && opts.inputFile !== undefined) throw new CliError('give --input or --input-file, not both', EXIT_REFUSED);
      if (opts.priority !== undefined && !Number.isSafeInteger(opts.priority)) throw new CliError('--priority must be a whole number', EXIT_REFUSED);
      const input = opts.inputFile !== undefined ? await readInput(opts.inputFile) : opts.input;
      const client = new DaemonClient(opts.url);
      const job = await client.call<JobAnswer>('POST', '/api/jobs', {
        template,
        ...(input !== undefined ? { input } : {}),
        ...(opts.env ? { env: opts.env } : {}),
        ...(opts.timeout !== undefined ? { timeout_s: opts.timeout } : {}),
        ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
        ...(opts.idempotencyKey ? { idempotency_key: opts.idempotencyKey } : {}),
      });
      if (!opts.wait) {
        if (opts.json) return printJson(job);
        console.log(`${job.id} ${job.status}${job.position !== undefined ? ` (position ${job.position})` : ''}${job.reason ? `: ${job.reason}` : ''}`);
        return;
      }
      if (!opts.json) process.stderr.write(`job ${job.id} ${job.status}${job.reason ? `: ${job.reason}` : ''}\n`);
      const final = await followJob(client, job.id, !opts.json);
      if (opts.json) printJson(final);
      else process.stderr.write(`job ${final.id} ${final.status}${describeEnd(final)}\n`);
      const code = exitCodeOfJob(final);
      if (code !== 0) process.exitCode = code;
    });

  withDaemonUrl(jobs.command('ls')
    .description('list jobs, newest first')
    .option('--status <status>', 'only jobs in this state (queued, running, succeeded, …)')
    .option('--template <name>', 'only jobs of this template')
    .option('--limit <n>', 'at most this many', nonNegativeInteger)
    .option('--json', 'print the JSON answer'))
    .action(async (opts: { status?: string; template?: string; limit?: number; json?: boolean; url: string }) => {
      const query = new URLSearchParams();
      if (opts.status) query.set('status', opts.status);
      if (opts.template) query.set('template', opts.template);
      if (opts.limit !== undefined) query.set('limit', String(opts.limit));
      const answer = await new DaemonClient(opts.url).call<unknown>('GET', `/api/jobs${query.size > 0 ? `?${query}` : ''}`);
      if (opts.json) return printJson(answer);
      const list = itemsOf<JobSummary>(answer);
      printTable([['ID', 'TEMPLATE', 'STATUS', 'ATTEMPTS', 'NODE', 'DETAIL'], ...list.map((j) => [
        j.id, j.template, j.status, String(j.attempts ?? 0), j.node ?? '-',
        j.status === 'queued' ? j.reason ?? '' : [j.exit_code !== undefined ? `exit code ${j.exit_code}` : '', j.reason && j.reason !== 'exit' ? j.reason : ''].filter(Boolean).join(', '),
      ])]);
    });

  withDaemonUrl(jobs.command('show')
    .description('a job with its attempts (JSON)')
    .argument('<id>', 'the job id')
    .option('--wait <seconds>', 'answer when the job ends or after this many seconds (at most 300)', nonNegativeInteger))
    .action(async (id: string, opts: { wait?: number; url: string }) => {
      printJson(await new DaemonClient(opts.url).call('GET', `/api/jobs/${encodeURIComponent(id)}${opts.wait !== undefined ? `?wait=${opts.wait}` : ''}`));
    });

  withDaemonUrl(jobs.command('logs')
    .description("a job's output: stdout to stdout, stderr to stderr")
    .argument('<id>', 'the job id')
    .option('-f, --follow', 'keep following until the job ends')
    .option('--tail <n>', 'only the last n lines of each stream', nonNegativeInteger))
    .action(async (id: string, opts: { follow?: boolean; tail?: number; url: string }) => {
      const client = new DaemonClient(opts.url);
      // Asked first, so an unknown id is reported as the daemon words it.
      await client.call('GET', `/api/jobs/${encodeURIComponent(id)}`);
      await Promise.all((['stdout', 'stderr'] as const).map((stream) => copyLogs(client, id, stream, { follow: !!opts.follow, tail: opts.tail })));
    });

  withDaemonUrl(jobs.command('cancel')
    .description('cancel a job in any state that has not ended: a queued one never starts, a running one is stopped (waits until it has)')
    .argument('<id>', 'the job id')
    .option('--json', 'print the JSON answer'))
    .action(async (id: string, opts: { json?: boolean; url: string }) => {
      const client = new DaemonClient(opts.url);
      await client.call<JobAnswer>('POST', `/api/jobs/${encodeURIComponent(id)}/cancel`);
      // A running job is stopped with SIGTERM, then SIGKILL after its grace: wait for that, then say how it ended.
      const job = await client.call<JobAnswer>('GET', `/api/jobs/${encodeURIComponent(id)}?wait=${CANCEL_WAIT_S}`);
      if (opts.json) return printJson(job);
      console.log(`${job.id} ${job.status}`);
    });

  const templates = program.command('templates').description('job templates: what a job runs, with what resources');

  withDaemonUrl(templates.command('put')
    .description('create or replace a job template from a JSON file (SPEC §10 fields)')
    .argument('<name>', 'template name')
    .argument('<file>', 'the template as JSON (- for standard input)')
    .option('--json', 'print the JSON answer'))
    .action(async (name: string, file: string, opts: { json?: boolean; url: string }) => {
      const body = await readJsonInput(file);
      const answer = await new DaemonClient(opts.url).call<{ name?: string; status?: string; reason?: string }>('PUT', `/api/job-templates/${encodeURIComponent(name)}`, body);
      if (opts.json) return printJson(answer);
      console.log(`${answer.name ?? name} ${answer.status ?? 'accepted'}${answer.reason ? `: ${answer.reason}` : ''}`);
    });

  withDaemonUrl(templates.command('ls')
    .description('list job templates')
    .option('--json', 'print the JSON answer'))
    .action(async (opts: { json?: boolean; url: string }) => {
      const answer = await new DaemonClient(opts.url).call<unknown>('GET', '/api/job-templates');
      if (opts.json) return printJson(answer);
      const list = itemsOf<{ name: string; status: string; image?: string; cpu_cores?: number; mem_units?: number; reason?: string }>(answer);
      printTable([['NAME', 'STATUS', 'IMAGE', 'CORES', 'MEM', 'REASON'], ...list.map((t) => [
        t.name, t.status, t.image ?? '-', String(t.cpu_cores ?? '-'), String(t.mem_units ?? '-'), t.reason ?? '',
      ])]);
    });

  withDaemonUrl(templates.command('show')
    .description('a job template (JSON)')
    .argument('<name>', 'template name'))
    .action(async (name: string, opts: { url: string }) => {
      printJson(await new DaemonClient(opts.url).call('GET', `/api/job-templates/${encodeURIComponent(name)}`));
    });

  withDaemonUrl(templates.command('rm')
    .description('delete a job template (refused while its jobs are queued or running, unless --force, which cancels them)')
    .argument('<name>', 'template name')
    .option('--force', 'cancel its queued and running jobs'))
    .action(async (name: string, opts: { force?: boolean; url: string }) => {
      await new DaemonClient(opts.url).call('DELETE', `/api/job-templates/${encodeURIComponent(name)}${opts.force ? '?force=true' : ''}`);
      console.log(`${name} deleted`);
    });
}

/** A list answer: the array itself, or `{items}` / `{jobs}` / `{templates}`. */
function itemsOf<T>(answer: unknown): T[] {
  if (Array.isArray(answer)) return answer as T[];
  const object = answer as Record<string, unknown>;
  for (const key of ['items', 'jobs', 'templates']) if (Array.isArray(object?.[key])) return object[key] as T[];
  return [];
}

function describeEnd(job: JobAnswer): string {
  const last = job.attempts?.[job.attempts.length - 1];
  if (!last || job.status === 'queued') return job.reason ? `: ${job.reason}` : '';
  const parts = [
    ...(typeof last.exit_code === 'number' ? [`exit code ${last.exit_code}`] : []),
    ...(last.reason && last.reason !== 'exit' ? [last.reason] : []),
    ...(last.message ? [last.message] : []),
  ];
  return parts.length > 0 ? `: ${parts.join(', ')}` : '';
}

async function readInput(file: string): Promise<string> {
  try {
    if (file !== '-') return await fs.readFile(file, 'utf8');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file === '-' ? 'standard input' : file}: ${(err as Error).message}`, EXIT_REFUSED);
  }
}

/** Follows both streams of a job until it ends, then answers its final record. */
async function followJob(client: DaemonClient, id: string, print: boolean): Promise<JobAnswer> {
  const logs = print
    ? Promise.all((['stdout', 'stderr'] as const).map((stream) => copyLogs(client, id, stream, { follow: true })))
    : Promise.resolve();
  for (;;) {
    const job = await client.call<JobAnswer>('GET', `/api/jobs/${encodeURIComponent(id)}?wait=60`);
    if (TERMINAL.has(job.status)) {
      await logs;
      return job;
    }
  }
}

/**
 * Copies one stream of a job's output to the same stream of this process, as the daemon sends it
 * (`GET /api/jobs/:id/logs?stream=…`; with `follow` until the job ends).
 */
async function copyLogs(client: DaemonClient, id: string, stream: 'stdout' | 'stderr', options: { follow: boolean; tail?: number }): Promise<void> {
  const query = new URLSearchParams({ stream });
  if (options.follow) query.set('follow', 'true');
  if (options.tail !== undefined) query.set('tail', String(options.tail));
  const url = `${client.baseUrl}/api/jobs/${encodeURIComponent(id)}/logs?${query}`;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new DaemonUnreachableError(client.baseUrl, (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
  }
  if (!response.ok || !response.body) {
    const text = await response.text();
    let body: unknown = text;
    try { body = JSON.parse(text); } catch { /* kept as text */ }
    throw errorOf({ status: response.status, body }, `GET ${url}`);
  }
  const out = stream === 'stdout' ? process.stdout : process.stderr;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    if (value && value.length > 0 && !out.write(value)) await new Promise((resolve) => out.once('drain', resolve));
  }
}

