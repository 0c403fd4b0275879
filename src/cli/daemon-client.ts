import { Command, Option } from 'commander';
import { CliError, EXIT_FAILED, EXIT_REFUSED } from './exit-codes';

export const DEFAULT_URL = 'http://127.0.0.1:8000';

/** How long a command waits for a starting daemon (503 `starting`) before it reports the answer. */
export const STARTING_WAIT_MS = 60_000;

/** No answer at all from the daemon's address (refused, reset, unknown host). */
export class DaemonUnreachableError extends CliError {
  constructor(readonly url: string, reason: string) {
    super(
      `cannot reach the ecoware-executor daemon at ${url} (${reason}). ` +
      'Is it running? Start it with `ecoware-executor start`, or point --url / ECOWARE_URL at it.',
      EXIT_FAILED,
    );
  }
}

/** Adds `--url` to a command that talks to a running daemon. */
export function withDaemonUrl(command: Command): Command {
  return command.addOption(
    new Option('--url <url>', 'address of the daemon').env('ECOWARE_URL').default(DEFAULT_URL),
  );
}

export interface DaemonAnswer<T = unknown> {
  status: number;
  body: T;
  location?: string;
}

/**
 * The daemon's HTTP API as the command line uses it. A daemon that cannot be reached is reported with
 * its URL and what to do; an error answer becomes a CliError carrying the daemon's message, with exit
 * code 2 for 4xx (bad input, refused) and 1 for the rest.
 */
export class DaemonClient {
  readonly baseUrl: string;

  constructor(url: string) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new CliError(`--url '${url}' is not a URL (for example ${DEFAULT_URL})`, EXIT_REFUSED);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new CliError(`--url '${url}' must be an http:// or https:// URL`, EXIT_REFUSED);
    }
    this.baseUrl = url.replace(/\/+$/, '');
  }

  /**
   * Sends a request and returns the answer, whatever its status. A daemon that is starting (503
   * with code `starting`: its state is not restored yet) is asked again after its Retry-After, for
   * at most STARTING_WAIT_MS, as a planner would: the same request will be answered once it is up.
   */
  async send<T = unknown>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<DaemonAnswer<T>> {
    const deadline = Date.now() + STARTING_WAIT_MS;
    for (;;) {
      const answer = await this.sendOnce<T>(method, path, body, signal);
      const starting = answer.status === 503 && (answer.body as { code?: unknown } | undefined)?.code === 'starting';
      if (!starting || Date.now() >= deadline || signal?.aborted) return answer;
      const waitMs = Math.min(Math.max(1, answer.retryAfterS ?? 1) * 1000, deadline - Date.now());
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }

  private async sendOnce<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<DaemonAnswer<T> & { retryAfterS?: number }> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new DaemonUnreachableError(this.baseUrl, networkReason(err));
    }
    const text = await response.text();
    let parsed: unknown = text;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not JSON (a proxy's error page): kept as text.
      }
    }
    const retryAfter = Number(response.headers.get('retry-after'));
    return {
      status: response.status, body: parsed as T, location: response.headers.get('location') ?? undefined,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterS: retryAfter } : {}),
    };
  }

  /** Sends a request and returns the body of a 2xx answer; any other answer becomes a CliError. */
  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.send<T>(method, path, body);
    if (answer.status >= 200 && answer.status < 300) return answer.body;
    throw errorOf(answer, `${method} ${path}`);
  }
}

export function errorOf(answer: DaemonAnswer, request: string): CliError {
  const body = answer.body as { error?: unknown; code?: unknown; field?: unknown } | string;
  const message = typeof body === 'object' && body !== null && typeof body.error === 'string'
    ? `${body.error}${typeof body.code === 'string' ? ` (${body.code})` : ''}`
    : `${request} answered HTTP ${answer.status}${typeof body === 'string' && body ? `: ${body.slice(0, 200)}` : ''}`;
  return new CliError(message, answer.status >= 400 && answer.status < 500 ? EXIT_REFUSED : EXIT_FAILED);
}

function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}
