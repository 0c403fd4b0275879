import { execFileSync } from 'child_process';
import * as path from 'path';

/**
 * Tests run against a real Docker engine. When DOCKER_HOST is not set (jest started directly rather
 * than through scripts/test.sh), find or start one the same way the scripts do.
 */
export default function globalSetup(): void {
  if (process.env.DOCKER_HOST && process.env.ECOWARE_TEST_IMAGE) return;
  const script = path.join(__dirname, '..', 'scripts', 'ensure-docker.sh');
  const exports = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const [, name, value] of exports.matchAll(/^export (\w+)='([^']*)'$/gm)) process.env[name] = value;
}
