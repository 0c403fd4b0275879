// The daemon's JSON routes, as the page calls them. Changes carry X-Requested-With, which a
// cross-site form cannot send: the daemon refuses a change made with the session cookie without it.

export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** How long a read may take before the page gives it up (and asks again where it retries). */
const READ_TIMEOUT_MS = 10000;

export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') headers['x-requested-with'] = 'ecoware-ui';
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    // Never from the browser's cache (the session's answer changes when the daemon restarts with
    // tokens), and a read that hangs is given up, so that the page asks again instead of waiting.
    res = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
      ...(method === 'GET' ? { signal: AbortSignal.timeout(READ_TIMEOUT_MS) } : {}),
    });
  } catch (e) {
    throw new ApiError(0, 'the daemon does not answer', 'unreachable');
  }
  const text = await res.text();
  let data = text;
  try { data = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
  if (!res.ok) {
    const message = data && typeof data === 'object' && data.error ? data.error : `${method} ${path}: HTTP ${res.status}`;
    throw new ApiError(res.status, message, data && data.code);
  }
  return data;
}
