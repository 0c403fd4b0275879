import { existsSync } from 'fs';
import * as path from 'path';

/**
 * The original ecoware-executor's reference material (example topology and plan, solver cases),
 * kept in `shared/reference` beside the repository. ECOWARE_REFERENCE_DIR overrides the location.
 */
export function referenceDir(): string {
  const candidates = [
    process.env.ECOWARE_REFERENCE_DIR,
    path.resolve(__dirname, '../../../shared/reference'),
  ].filter((dir): dir is string => dir !== undefined);
  const found = candidates.find((dir) => existsSync(path.join(dir, 'ecoware-topology.json')));
  if (!found) throw new Error(`reference material not found (looked in ${candidates.join(', ')}); set ECOWARE_REFERENCE_DIR`);
  return found;
}

export function referenceFile(...parts: string[]): string {
  return path.join(referenceDir(), ...parts);
}
