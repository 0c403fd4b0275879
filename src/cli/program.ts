import { Command } from 'commander';
import { registerPlanCommands } from './plan-commands';
import { registerSolveCommand } from './solve-command';
import { registerStartCommand } from './start-command';
import { register as registerSystemsCommands } from './systems-command';
import { register as registerJobsCommands } from './jobs-command';
import { packageVersion } from '../version';

/**
 * A group of subcommands. Each group lives in its own file under src/cli/ and is listed once in
 * COMMAND_GROUPS; it adds its commands to the program it is given.
 */
export type RegisterCommands = (program: Command) => void;

export const COMMAND_GROUPS: RegisterCommands[] = [
  registerStartCommand,
  registerPlanCommands,
  registerSolveCommand,
  registerSystemsCommands,
  registerJobsCommands,
];

/**
 * The command line. Usage errors (unknown command or flag, missing argument) throw a CommanderError
 * instead of exiting, so the caller decides the exit code.
 */
export function buildProgram(groups: RegisterCommands[] = COMMAND_GROUPS): Command {
  const program = new Command()
    .name('ecoware-executor')
    .description('The Execute stage of a MAPE-K autoscaler: applies resource plans to containers on Docker engines.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false })
    .addHelpText('after', `
Commands that talk to a daemon take --url (env ECOWARE_URL, default http://127.0.0.1:8000).
Exit codes: 0 done, 1 failed (an execution failed or was cancelled, the daemon is unreachable),
2 bad input or refused.`);
  for (const register of groups) register(program);
  // Every command, including those added by the groups, refuses unknown flags and stray arguments
  // and reports usage errors to the caller.
  const strict = (command: Command) => {
    command.exitOverride().allowUnknownOption(false).allowExcessArguments(false);
    command.commands.forEach(strict);
  };
  strict(program);
  return program;
}
