import { Command } from 'commander';
import { DaemonClient, withDaemonUrl } from './daemon-client';
import { CliError, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_REFUSED } from './exit-codes';
import { followEvents } from './event-stream-client';
import { EventStreamExecutionSource, ExecutionSource, ExecutionView, ProgressPrinter } from './follow-execution';
import { nonNegativeInteger, printJson, readJsonInput } from './input';
import type { ExecutionAcceptedWire } from '../http/wire';

/** Codes of executions that ended because the plan was refused, not because something broke. */
const REFUSED_CODES = new Set(['no_solution', 'unsatisfiable', 'held_by_jobs', 'invalid', 'conflict']);

function exitCodeOf(execution: ExecutionView): number {
  if (execution.status === 'succeeded') return EXIT_OK;
  if (execution.status === 'failed' && REFUSED_CODES.has(execution.error?.code ?? '')) return EXIT_REFUSED;
  return EXIT_FAILED;
}

/** How a command's output is shown: progress lines at a terminal, one JSON document when piped. */
interface OutputMode {
  interactive: boolean;
}

function outputMode(): OutputMode {
  return { interactive: process.stdout.isTTY === true };
}

/** The commands that read and change what the daemon runs. */
export function registerPlanCommands(program: Command, sourceFor: (client: DaemonClient) => ExecutionSource = (c) => new EventStreamExecutionSource(c)): void {
  withDaemonUrl(program
    .command('topology')
    .description('replace the topology with FILE (PUT /api/topology), or print the one in force')
    .argument('[file]', 'topology as JSON, or - for standard input'))
    .action(async (file: string | undefined, options: { url: string }) => {
      const client = new DaemonClient(options.url);
      printJson(file === undefined ? await client.call('GET', '/api/topology') : await client.call('PUT', '/api/topology', await readJsonInput(file)));
    });

  withDaemonUrl(program
    .command('translate')
    .description('preview a plan: the actions and the allocation it would give; nothing changes')
    .argument('<file>', 'plan {app: {tier: {cpu_cores, mem_units}}} as JSON, or - for standard input'))
    .action(async (file: string, options: { url: string }) => {
      printJson(await new DaemonClient(options.url).call('PUT', '/api/translate', await readJsonInput(file)));
    });

  withDaemonUrl(program
    .command('apply')
    .description('apply a plan and follow its execution to the end')
    .argument('<file>', 'plan {app: {tier: {cpu_cores, mem_units}}} as JSON, or - for standard input')
    .option('-d, --detach', 'print the execution id and return at once')
    .option('--no-coalesce', 'keep this plan apart: never merged with plans queued before or after it')
    .addHelpText('after', `
At a terminal each layer and action is shown as it starts and finishes; piped, the result is printed as
one JSON document (the answer of PUT /api/execute). There is no time limit: Ctrl-C stops following and
leaves the execution running. Exit codes: 0 succeeded, 1 failed or cancelled, 2 bad input or refused.`))
    .action(async (file: string, options: { url: string; detach?: boolean; coalesce: boolean }) => {
      const client = new DaemonClient(options.url);
      const plan = await readJsonInput(file);
      // Ctrl-C from here on never loses track of the plan: once the daemon has it, say where it is.
      const interrupt = interruptOnSigint();
      try {
        const query = options.coalesce ? '?wait=false' : '?wait=false&coalesce=false';
        const accepted = await client.call<ExecutionAcceptedWire>('PUT', `/api/execute${query}`, plan);
        if (options.detach) {
          printJson(accepted);
          return;
        }
        process.exitCode = await followToEnd(client, sourceFor(client), accepted.execution_id, outputMode(), interrupt.signal);
      } finally {
        interrupt.release();
      }
    });

  withDaemonUrl(program
    .command('allocation')
    .description('what runs where: per VM, the cores and memory units of each tier'))
    .action(async (options: { url: string }) => {
      printJson(await new DaemonClient(options.url).call('GET', '/api/allocation'));
    });

  withDaemonUrl(program
    .command('inspect')
    .description('what the engines report now, per VM and container'))
    .action(async (options: { url: string }) => {
      printJson(await new DaemonClient(options.url).call('GET', '/api/inspect'));
    });

  withDaemonUrl(program
    .command('executions')
    .description('applied plans, newest first')
    .option('--limit <n>', 'how many (default 20)', nonNegativeInteger)
    .option('--offset <n>', 'how many of the newest to pass over', nonNegativeInteger))
    .action(async (options: { url: string; limit?: number; offset?: number }) => {
      const query = new URLSearchParams();
      if (options.limit !== undefined) query.set('limit', String(options.limit));
      if (options.offset !== undefined) query.set('offset', String(options.offset));
      const suffix = query.size > 0 ? `?${query}` : '';
      printJson(await new DaemonClient(options.url).call('GET', `/api/executions${suffix}`));
    });

  withDaemonUrl(program
    .command('execution')
    .description('one execution: plan, status, every action with its result and hook output')
    .argument('<id>', 'execution id')
    .option('-f, --follow', 'follow it to its end, as apply does'))
    .action(async (id: string, options: { url: string; follow?: boolean }) => {
      const client = new DaemonClient(options.url);
      if (options.follow) {
        const interrupt = interruptOnSigint();
        try {
          process.exitCode = await followToEnd(client, sourceFor(client), id, outputMode(), interrupt.signal);
        } finally {
          interrupt.release();
        }
        return;
      }
      printJson(await client.call('GET', `/api/executions/${encodeURIComponent(id)}`));
    });

  withDaemonUrl(program
    .command('events')
    .description('print the daemon\'s events as they happen (GET /api/events) until Ctrl-C')
    .option('--kind <kinds>', 'only these kinds of event, a comma list of execution, action, node')
    .addHelpText('after', `
At a terminal one line per event; piped, one JSON object per line ({event_id, type, ...the event}). A lost
connection is opened again and what was missed is sent (a restarted daemon says reset instead).`))
    .action(async (options: { url: string; kind?: string }) => {
      const client = new DaemonClient(options.url);
      const types = options.kind?.split(',').map((k) => k.trim()).filter(Boolean);
      const interrupt = interruptOnSigint();
      const interactive = outputMode().interactive;
      try {
        await followEvents(client, (event) => {
          process.stdout.write(`${interactive ? describeEvent(event.type, event.data) : JSON.stringify({ event_id: event.id, type: event.type, ...event.data })}\n`);
        }, interrupt.signal, { types });
      } catch (err) {
        if (!interrupt.signal.aborted) throw err;
      } finally {
        interrupt.release();
      }
    });

  withDaemonUrl(program
    .command('cancel')
    .description('cancel an execution: what has not started is skipped, running hooks are stopped')
    .argument('<id>', 'execution id'))
    .action(async (id: string, options: { url: string }) => {
      printJson(await new DaemonClient(options.url).call('POST', `/api/executions/${encodeURIComponent(id)}/cancel`));
    });
}

/** One line for a person: time, kind, what changed. */
function describeEvent(type: string, e: Record<string, unknown>): string {
  const at = typeof e.at === 'string' ? e.at.slice(11, 23) : '';
  if (type === 'execution') return `${at} execution ${e.id} ${e.kind} ${e.status}`;
  if (type === 'action') return `${at} action    ${e.execution_id} [layer ${Number(e.layer) + 1}] ${e.status}: ${e.description}`;
  if (type === 'node') return `${at} node      ${e.name}${e.health ? ` ${e.health}` : ''}${e.cordoned !== undefined ? (e.cordoned ? ' cordoned' : ' uncordoned') : ''}`;
  if (type === 'reset') return `reset: ${e.reason}`;
  return `${type} ${JSON.stringify(e)}`;
}

/** An abort signal raised by Ctrl-C, instead of the default of dying at once. */
function interruptOnSigint(): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.on('SIGINT', onInterrupt);
  return { signal: controller.signal, release: () => { process.removeListener('SIGINT', onInterrupt); } };
}

/**
 * Follows an execution until it finishes and returns the exit code it deserves. Ctrl-C (`interrupt`)
 * ends the following only: the execution carries on, and the message says how to find it again.
 */
async function followToEnd(client: DaemonClient, source: ExecutionSource, id: string, mode: OutputMode, interrupt: AbortSignal): Promise<number> {
  let followed = id;
  const printer = new ProgressPrinter((line) => process.stdout.write(`${line}\n`));
  try {
    if (interrupt.aborted) throw interrupt.reason;
    const execution = await source.follow(id, (update) => {
      followed = update.status === 'superseded' && update.superseded_by ? update.superseded_by : update.id;
      if (mode.interactive) printer.update(update);
    }, interrupt);
    if (mode.interactive) {
      printer.finish(execution);
    } else {
      printJson(await executionResult(client, execution));
      // Scripts read the JSON; whoever watches the pipe's end still sees why it failed.
      if (execution.status !== 'succeeded') {
        process.stderr.write(`error: execution ${execution.id} ${execution.status}${execution.error ? `: ${execution.error.message} (${execution.error.code})` : ''}\n`);
      }
    }
    return exitCodeOf(execution);
  } catch (err) {
    if (!interrupt.aborted) throw err;
    process.stderr.write(
      `\nstopped following; execution ${followed} keeps running on the daemon.\n` +
      `  follow it again: ecoware-executor execution ${followed} --follow --url ${client.baseUrl}\n` +
      `  cancel it:       ecoware-executor cancel ${followed} --url ${client.baseUrl}\n`,
    );
    return EXIT_INTERRUPTED;
  }
}

/** The finished execution in the shape PUT /api/execute answers with. */
async function executionResult(client: DaemonClient, execution: ExecutionView): Promise<unknown> {
  const allocation = await client.call('GET', '/api/allocation').catch((err: unknown) => {
    if (err instanceof CliError) return undefined;
    throw err;
  });
  const failed = execution.status !== 'succeeded';
  return {
    ...(failed ? { error: execution.error?.message ?? execution.status, code: execution.error?.code ?? execution.status } : {}),
    execution_id: execution.id,
    status: execution.status,
    allocation,
    actions: execution.steps.map((layer) => layer.map((a) => a.description)),
    steps: execution.steps,
    cost: execution.cost,
    lower_bound: execution.lower_bound,
    optimal: execution.optimal,
    timings_ms: execution.timings_ms,
  };
}
