import { Command } from 'commander';
import { readConfig } from '../config';
import { ValidationError } from '../domain/errors';
import { CliError, EXIT_REFUSED } from './exit-codes';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** The daemon's largest dependencies, loaded before the daemon itself (see the start action). */
const EARLY_LOADED = ['pino', 'express', 'dockerode', 'better-sqlite3', 'prom-client', 'simple-git', 'yaml', 'zod'];

/** `start`: the daemon. Flags win over the environment, which wins over the defaults. */
export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('run the daemon (HTTP API, executions on the Docker engines)')
    .option('--port <port>', 'port to listen on (env PORT, default 8000)')
    .option('--host <address>', 'address to listen on (env HOST, default 127.0.0.1; beyond loopback needs --tokens-file or --insecure-no-auth)')
    .option('--state-dir <dir>', 'where the topology and the executions are kept (env ECOWARE_STATE_DIR, default .state)')
    .option('--topology <file>', 'topology loaded at start when none is persisted (env ECOWARE_TOPOLOGY)')
    .option('--solver-time-limit-ms <ms>', 'hard budget of one allocation (env ECOWARE_SOLVER_TIME_LIMIT_MS, default 10000)')
    .option('--solver-threads <n>', "threads that solve one allocation side by side (env ECOWARE_SOLVER_THREADS, default the machine's cores)")
    .option('--tokens-file <file>', '`<role> <token>` lines, role admin or read (env ECOWARE_TOKENS_FILE; docs/operations.md)')
    .option('--insecure-no-auth', 'listen beyond loopback without tokens (env ECOWARE_INSECURE_NO_AUTH=1)')
    .option('--allowed-host <name>', 'without tokens, also answer requests whose Host is this name (repeatable or comma-separated; * any; env ECOWARE_ALLOWED_HOSTS)',
      (value: string, previous?: string) => (previous ? `${previous},${value}` : value))
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (env ECOWARE_TLS_CERT)')
    .option('--tls-key <file>', 'the PEM key of --tls-cert (env ECOWARE_TLS_KEY)')
    .option('--execution-retention-days <days>', 'finished executions older than this are pruned (default 30)')
    .option('--execution-retention-count <n>', 'beyond the newest N finished executions (default 10000)')
    .option('--job-log-kib <kib>', 'the last KiB of each stream of a job attempt kept with its record (env ECOWARE_JOB_LOG_KIB, default 1024)')
    .option('--shutdown-timeout-s <s>', 'on SIGTERM, how long the running execution may take to finish (default 60)')
    .option('--log-level <level>', 'trace, debug, info, warn, error (env ECOWARE_LOG_LEVEL, default info)')
    .option('--host-ports <range>', "host ports the daemon gives systems' containers, per node (env ECOWARE_HOST_PORTS, default 20000-32000)")
    .option('--database-url <url>', 'postgres://…: the state in PostgreSQL, shared by several daemons of which one leads (env ECOWARE_DATABASE_URL; docs/operations.md)')
    .option('--lease-s <s>', "on PostgreSQL, the leader's lease in seconds (env ECOWARE_LEASE_S, default 15)")
    .option('--advertise-url <url>', 'on PostgreSQL, the URL the other daemons redirect changes to (env ECOWARE_ADVERTISE_URL)')
    .option('--allow-bind <dir>', 'root under which host paths may be mounted (env ECOWARE_ALLOW_BIND; none by default)')
    .option('--system-ready-timeout-s <s>', 'how long a system start waits for its services to be ready (env ECOWARE_SYSTEM_READY_TIMEOUT_S, default 120)')
    .addHelpText('after', '\nDOCKER_HOST names the engine of the implicit `local` node. Operating the daemon: docs/operations.md.')
    .action(async (options: Record<string, string | boolean | undefined>) => {
      // Commander names options in camelCase and gives switches as booleans; the configuration reads
      // them by their flag names, as strings.
      const flags = Object.fromEntries(Object.entries(options).map(([key, value]) =>
        [key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), value === true ? 'true' : value === false ? undefined : value]));
      const config = readConfig(flags);
      const level = flags['log-level'];
      if (typeof level === 'string' && !LOG_LEVELS.includes(level)) {
        throw new ValidationError('log-level', `'${level}' is not a log level (${LOG_LEVELS.join(', ')})`);
      }
      // The port opens first, answering /livez, while the daemon's modules load (most of a start).
      const { listenEarly, mayListenEarly } = await import('../http/early-listener');
      const server = mayListenEarly(config) ? await listenEarly(config) : undefined;
      // Loading a module blocks the event loop: the largest dependencies load one at a time, with a
      // turn of the loop between them, so that the port answers /livez meanwhile.
      if (server) {
        for (const name of EARLY_LOADED) {
          await new Promise((resolve) => setImmediate(resolve));
          require(name);
        }
      }
      // Loaded on demand: the other commands need none of the daemon's drivers.
      const { log, setLogLevel } = await import('../log');
      if (typeof flags['log-level'] === 'string') setLogLevel(flags['log-level']);
      const { startDaemon, StartupError } = await import('../main');
      // The port answers /livez at once; this line says the state is restored and plans are taken.
      const daemon = await startDaemon(config, { waitReady: false, server }).catch((e: unknown) => {
        server?.close();
        // A configuration the daemon refuses (open API beyond loopback, half a TLS pair) is a refusal: exit code 2.
        throw e instanceof StartupError ? new CliError(e.message, EXIT_REFUSED) : e;
      });
      await daemon.ready.catch(() => undefined);
      console.log(`ecoware-executor listening on ${daemon.url} (state in ${config.databaseUrl ? 'PostgreSQL' : config.stateDir})`);
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
      await new Promise<never>(() => undefined);
    });
}
