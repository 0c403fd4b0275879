import { promises as fs } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { CliError, EXIT_REFUSED } from './exit-codes';

/** A JSON document from a file, or from standard input when the name is `-`. */
export async function readJsonInput(file: string): Promise<unknown> {
  const source = file === '-' ? 'standard input' : file;
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${source}: ${(err as Error).message}`, EXIT_REFUSED);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${source} is not valid JSON: ${(err as Error).message}`, EXIT_REFUSED);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Writes a JSON document: indented for people, one document per call either way. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Parser of an option that takes a whole, non-negative number (commander reports the refusal). */
export function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('a whole number is expected.');
  return n;
}

/** Parser of an option that takes a positive number. */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a positive number is expected.');
  return n;
}
