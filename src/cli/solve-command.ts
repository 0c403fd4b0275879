import { Command } from 'commander';
import { printJson, readJsonInput, positiveNumber } from './input';

/** `solve`: the allocator alone, offline, on a problem in the ecoware solver's input format. */
export function registerSolveCommand(program: Command): void {
  program
    .command('solve')
    .description('solve one allocation problem offline and print the allocation')
    .argument('<file>', 'problem {infrastructure, allocation, plan} as JSON, or - for standard input')
    .option('--time-limit-ms <ms>', 'hard budget of the solve', positiveNumber)
    .action(async (file: string, options: { timeLimitMs?: number }) => {
      const { solveDocument } = await import('../allocator/solve-file');
      const output = await solveDocument(await readJsonInput(file), options.timeLimitMs !== undefined ? { timeLimitMs: options.timeLimitMs } : {});
      printJson(output);
    });
}
