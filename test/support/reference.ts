import * as path from 'path';

/**
 * The original ecoware-executor's reference material (example topology and plan, solver cases),
 * kept as fixtures in the repository (test/fixtures/reference, see its README), so a clone passes
 * its tests with nothing beside it.
 */
export function referenceDir(): string {
  return path.resolve(__dirname, '../fixtures/reference');
}

export function referenceFile(...parts: string[]): string {
  return path.join(referenceDir(), ...parts);
}
