#!/usr/bin/env node
import { promises as fs } from 'fs';
import { readConfig } from './config';
import { DomainError } from './domain/errors';

const USAGE = `ecoware-executor — the Execute stage of a MAPE-K autoscaler

Usage:
  ecoware-executor start [--port N] [--host H] [--state-dir DIR] [--topology FILE] [--solver-time-limit-ms N]
                        [--tokens-file FILE] [--insecure-no-auth] [--tls-cert FILE --tls-key FILE]
                        [--execution-retention-days N] [--execution-retention-count N]
                        [--shutdown-timeout-s N] [--log-level LEVEL]
      Run the daemon (env: PORT, HOST, ECOWARE_STATE_DIR, ECOWARE_TOPOLOGY, DOCKER_HOST,
      ECOWARE_TOKENS_FILE, ECOWARE_TLS_CERT, ECOWARE_TLS_KEY, ECOWARE_LOG_LEVEL; docs/operations.md).
  ecoware-executor solve FILE|- [--time-limit-ms N]
      Solve one allocation problem offline (the ecoware solver's input format) and print the result.
  ecoware-executor topology FILE [--url URL]     PUT a topology to a running daemon
  ecoware-executor translate FILE [--url URL]    preview a plan ({app: {tier: {cpu_cores, mem_units}}})
  ecoware-executor apply FILE [--url URL]        apply a plan and wait for it
  ecoware-executor allocation [--url URL]        what runs where
  ecoware-executor executions [--url URL]        recent executions

--url defaults to $ECOWARE_URL or http://127.0.0.1:8000.`;

function parseArgs(argv: string[]): { positional: string[]; flags: Record<string, string | undefined> } {
  const positional: string[] = [];
  const flags: Record<string, string | undefined> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith('--')) {
      const [key, inline] = arg.slice(2).split('=', 2);
      flags[key] = inline ?? (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[++i] : 'true');
    } else {
      positional.push(arg);
    }
  }
  return { positional, flags };
}

async function readInput(file: string | undefined): Promise<unknown> {
  if (!file) throw new Error('a FILE argument is required (or - for standard input)');
  const text = file === '-' ? await readStdin() : await fs.readFile(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file === '-' ? 'standard input' : file} is not valid JSON: ${(e as Error).message}`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function callDaemon(flags: Record<string, string | undefined>, method: string, path: string, body?: unknown): Promise<number> {
  const base = flags.url ?? process.env.ECOWARE_URL ?? 'http://127.0.0.1:8000';
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  (response.ok ? process.stdout : process.stderr).write(text.endsWith('\n') ? text : `${text}\n`);
  return response.ok ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const { positional, flags } = parseArgs(argv);
  const [command, file] = positional;
  switch (command) {
    case 'start': {
      const config = readConfig(flags);
      if (flags['log-level']) (await import('./log')).setLogLevel(flags['log-level']);
      // Loaded on demand: the daemon's drivers are not needed by the other commands.
      const { startDaemon } = await import('./main');
      const { log } = await import('./log');
      // The port answers /livez at once; this line says the state is restored and plans are taken.
      const daemon = await startDaemon(config, { waitReady: false });
      await daemon.ready.catch(() => undefined);
      console.log(`ecoware-executor listening on ${daemon.url} (state in ${config.stateDir})`);
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) {
          log.warn({ signal }, 'second signal: exiting now');
          process.exit(1);
        }
        stopping = true;
        log.info({ signal, shutdown_timeout_s: config.shutdownTimeoutS }, 'stopping: no more plans; the running execution may finish within the shutdown timeout');
        await daemon.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
      return new Promise<number>(() => undefined);
    }
    case 'solve': {
      const options = flags['time-limit-ms'] ? { timeLimitMs: Number(flags['time-limit-ms']) } : {};
      const { solveDocument } = await import('./allocator/solve-file');
      const output = await solveDocument(await readInput(file), options);
      process.stdout.write(JSON.stringify(output, null, 2) + '\n');
      return 0;
    }
    case 'topology':
      return callDaemon(flags, 'PUT', '/api/topology', await readInput(file));
    case 'translate':
      return callDaemon(flags, 'PUT', '/api/translate', await readInput(file));
    case 'apply':
      return callDaemon(flags, 'PUT', '/api/execute', await readInput(file));
    case 'allocation':
      return callDaemon(flags, 'GET', '/api/allocation');
    case 'executions':
      return callDaemon(flags, 'GET', '/api/executions');
    case undefined:
    case 'help':
    case '--help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    console.error(e instanceof DomainError ? e.message : `error: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
