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
    .addHelpText('after', '\nDOCKER_HOST names the engine of the implicit `local` node.')
    .action(async (options: Record<string, string | undefined>) => {
      const config = readConfig({
        port: options.port,
        host: options.host,
        'state-dir': options.stateDir,
        topology: options.topology,
        'solver-time-limit-ms': options.solverTimeLimitMs,
      });
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
