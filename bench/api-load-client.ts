import * as http from 'node:http';

/**
 * A closed-loop HTTP load generator, run as a child process so that it does not share an event loop
 * with the daemon it measures. `connections` workers each send one request at a time over keep-alive
 * connections until the deadline, and on until `minRequests` answers were counted (a slow endpoint
 * still gets enough samples). Answers arriving during the first `warmupMs` are not counted; the
 * requests in flight at the end are, and the window stretches to the last of them.
 * Only loopback addresses are accepted.
 */
export interface LoadSpec {
  url: string;
  method: 'GET' | 'PUT';
  body?: unknown;
  connections: number;
  durationMs: number;
  warmupMs: number;
  minRequests?: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  /** First error seen, to tell why. */
  firstError?: string;
  /** From the end of the warm-up to the last counted answer. */
  durationMs: number;
  latenciesMs: number[];
}

export async function generateLoad(spec: LoadSpec): Promise<LoadResult> {
  const target = new URL(spec.url);
  if (!/^127\.\d+\.\d+\.\d+$/.test(target.hostname) && target.hostname !== 'localhost') {
    throw new Error(`load is only sent to loopback addresses, not ${target.hostname}`);
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const payload = spec.body === undefined ? undefined : Buffer.from(JSON.stringify(spec.body));
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const begin = process.hrtime.bigint();
  const measureFrom = begin + BigInt(spec.warmupMs) * 1_000_000n;
  const end = measureFrom + BigInt(spec.durationMs) * 1_000_000n;
  const minRequests = spec.minRequests ?? 0;
  let lastFinished = measureFrom;

  const once = () => new Promise<void>((resolve) => {
    const started = process.hrtime.bigint();
    const settle = (error?: string) => {
      const finished = process.hrtime.bigint();
      if (finished >= measureFrom) {
        lastFinished = finished > lastFinished ? finished : lastFinished;
        if (error) {
          errors++;
          firstError ??= error;
        } else {
          latenciesMs.push(Number(finished - started) / 1e6);
        }
      }
      resolve();
    };
    const request = http.request(target, {
      method: spec.method,
      agent,
      headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        if (response.statusCode !== 200) settle(`status ${response.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`);
        else settle();
      });
      response.on('error', (err) => settle(err.message));
    });
    request.on('error', (err) => settle(err.message));
    request.end(payload);
  });

  const counted = () => latenciesMs.length + errors;
  await Promise.all(Array.from({ length: spec.connections }, async () => {
    while (process.hrtime.bigint() < end || counted() < minRequests) await once();
  }));
  agent.destroy();
  const durationMs = Number(lastFinished - measureFrom) / 1e6;
  return { requests: latenciesMs.length, errors, firstError, durationMs, latenciesMs };
}

if (require.main === module) {
  // The parent sends one LoadSpec over IPC and gets one LoadResult back.
  process.once('message', (spec: LoadSpec) => {
    generateLoad(spec)
      .then((result) => process.send!(result, () => process.exit(0)))
      .catch((err: unknown) => {
        console.error(err);
        process.exit(1);
      });
  });
}
