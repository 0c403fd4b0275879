import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The version in package.json ('unknown' when it cannot be read). src/version.ts and dist/version.js both sit one folder below it. */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
