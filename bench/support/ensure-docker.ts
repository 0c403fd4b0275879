import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

/**
 * Runs scripts/ensure-docker.sh (which reuses an engine answering at DOCKER_HOST, or starts one, and
 * builds the local test image) and takes over the variables it exports, so `npm run bench` works
 * without the caller's `eval`.
 */
export function ensureDocker(repositoryRoot: string): void {
  const output = execFileSync('bash', [path.join(repositoryRoot, 'scripts', 'ensure-docker.sh')], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: process.env,
  });
  for (const line of output.split('\n')) {
    const match = /^export ([A-Z_][A-Z0-9_]*)='([^']*)'$/.exec(line.trim());
    if (match) process.env[match[1]] = match[2];
  }
}
