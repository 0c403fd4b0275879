#!/usr/bin/env node
import { CommanderError } from 'commander';
import { CliError, EXIT_FAILED, EXIT_REFUSED } from './cli/exit-codes';
import { buildProgram } from './cli/program';
import { DomainError, ValidationError } from './domain/errors';

/** The command line: see `ecoware-executor --help`, and src/cli/ for the commands. */
async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    process.exitCode = EXIT_REFUSED;
    return;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version end with exit code 0; usage errors were printed by commander already.
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_REFUSED;
      return;
    }
    if (err instanceof CliError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof DomainError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = err instanceof ValidationError ? EXIT_REFUSED : EXIT_FAILED;
      return;
    }
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT_FAILED;
  }
}

void main(process.argv.slice(2));
