import { DaemonClient, DaemonUnreachableError, errorOf } from './daemon-client';

/** One Server-Sent Event of `GET /api/events`. */
export interface StreamEvent {
  id?: string;
  type: string;
  data: Record<string, unknown>;
}

export interface StreamOptions {
  /** `?type=`: execution, action, node. */
  types?: string[];
  /** Called once each time the stream is (re)opened, before its first event. */
  onOpen?: (reopened: boolean) => void;
  /** How long the daemon may stay unreachable (a restart) before giving up. */
  unreachableBudgetMs?: number;
  retryMs?: number;
}

/**
 * Follows the daemon's event stream until `signal` aborts, calling `onEvent` for each event. A lost
 * stream is opened again with `Last-Event-ID`, so the daemon sends what was missed (or `reset`,
 * when it no longer knows: a restarted daemon). An error answer (400, 401 …) ends it with that error;
 * a daemon unreachable for longer than the budget ends it with DaemonUnreachableError.
 */
export async function followEvents(client: DaemonClient, onEvent: (event: StreamEvent) => void, signal: AbortSignal, options: StreamOptions = {}): Promise<void> {
  const budget = options.unreachableBudgetMs ?? 60_000;
  const retryMs = options.retryMs ?? 1000;
  const path = `/api/events${options.types?.length ? `?type=${options.types.join(',')}` : ''}`;
  let lastEventId: string | undefined;
  let unreachableSince: number | undefined;
  let opened = false;
  while (!signal.aborted) {
    let response: Response;
    try {
      response = await fetch(`${client.baseUrl}${path}`, {
        headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
        signal,
      });
    } catch (err) {
      if (signal.aborted) return;
      unreachableSince ??= Date.now();
      if (Date.now() - unreachableSince > budget) throw new DaemonUnreachableError(client.baseUrl, (err as Error).message);
      await sleep(retryMs, signal);
      continue;
    }
    if (response.status !== 200) {
      const text = await response.text();
      let body: unknown = text;
      try { body = JSON.parse(text); } catch { /* kept as text */ }
      // A daemon shutting down or starting answers 503: wait for it like an unreachable one.
      if (response.status === 503) {
        unreachableSince ??= Date.now();
        if (Date.now() - unreachableSince <= budget) { await sleep(retryMs, signal); continue; }
      }
      throw errorOf({ status: response.status, body }, `GET ${path}`);
    }
    unreachableSince = undefined;
    options.onOpen?.(opened);
    opened = true;
    try {
      for await (const event of parseEvents(response.body!)) {
        if (event.id !== undefined) lastEventId = event.id;
        if (event.type !== '') onEvent(event);
      }
    } catch {
      if (signal.aborted) return;
      // The connection broke: open it again.
    }
    if (!signal.aborted) await sleep(Math.min(retryMs, 200), signal).catch(() => undefined);
  }
}

/** Parses `text/event-stream`: yields each event (an `id:` alone yields an event of type ''). */
export async function* parseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamEvent & { id?: string }> {
  const decoder = new TextDecoder();
  let buffer = '';
  let id: string | undefined;
  let type = '';
  let data: string[] = [];
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r\n|\n|\r/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (data.length > 0 || id !== undefined) {
          let parsed: Record<string, unknown> = {};
          try { parsed = data.length ? JSON.parse(data.join('\n')) : {}; } catch { parsed = { text: data.join('\n') }; }
          yield { id, type: data.length ? (type || 'message') : '', data: parsed };
        }
        id = undefined;
        type = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) { reject(signal.reason); return; }
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(timer); reject(signal.reason); };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
