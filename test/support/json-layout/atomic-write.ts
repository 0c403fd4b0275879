import { promises as fs } from 'fs';
import * as path from 'path';

/** Writes a file so that readers and a crash see either the old or the new content, never half of it. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
}

export async function readJsonIfExists(file: string): Promise<unknown | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * A state file's JSON, or undefined when there is none. One that does not parse, or that `isValid`
 * refuses, is renamed `<file>.unreadable-<time>` and reported through `warn`: the daemon starts
 * without it, and nothing written later overwrites what an operator may want to recover.
 */
export async function readJsonOrSetAside(
  file: string, isValid: (document: unknown) => boolean, warn: (message: string) => void,
): Promise<unknown | undefined> {
  let problem: string;
  try {
    const document = JSON.parse(await fs.readFile(file, 'utf8'));
    if (isValid(document)) return document;
    problem = 'not what it should hold';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    problem = (e as Error).message;
  }
  const aside = `${file}.unreadable-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await fs.rename(file, aside);
  warn(`${file} is unreadable (${problem}): set aside as ${aside}`);
  return undefined;
}
