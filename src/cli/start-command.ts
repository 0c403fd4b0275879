import { Command } from 'commander';
import { readConfig } from '../config';

/** `start`: the daemon. Flags win over the environment, which wins over the defaults. */
export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('run the daemon (HTTP API, executions on the Docker engines)')
    .option('--port <port>', 'port to listen on (env PORT, default 8000)')
    .option('--host <address>', 'address to listen on (env HOST, default 127.0.0.1)')
    .option('--state-dir <dir>', 'where the topology and the executions are kept (env ECOWARE_STATE_DIR, default .state)')
    .option('--topology <file>', 'topology loaded at start when none is persisted (env ECOWARE_TOPOLOGY)')
    .option('--solver-time-limit-ms <ms>', 'hard budget of one allocation (env ECOWARE_SOLVER_TIME_LIMIT_MS, default 10000)')
    .option('--host-ports <range>', "host ports the daemon gives systems' containers, per node (env ECOWARE_HOST_PORTS, default 20000-32000)")
    .option('--allow-bind <dir>', 'root under which compose host paths may be mounted (env ECOWARE_ALLOW_BIND; none by default)')
    .option('--system-ready-timeout-s <s>', 'how long a system start waits for its services to be ready (env ECOWARE_SYSTEM_READY_TIMEOUT_S, default 120)')
    .addHelpText('after', '\nDOCKER_HOST names the engine of the implicit `local` node.')
    .action(async (options: Record<string, string | undefined>) => {
      // Commander names options in camelCase; the configuration reads them by their flag names.
      const flags = Object.fromEntries(Object.entries(options).map(([key, value]) =>
        [key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), value]));
      const config = readConfig(flags);
      // Loaded on demand: the other commands need none of the daemon's drivers.
      const { startDaemon } = await import('../main');
      const daemon = await startDaemon(config);
      console.log(`ecoware-executor listening on ${daemon.url} (state in ${config.stateDir})`);
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        console.log(`${signal}: finishing the execution in progress, then stopping`);
        await daemon.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
      await new Promise<never>(() => undefined);
    });
}
