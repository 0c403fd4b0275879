/** JSON over HTTP to a running daemon, failing loudly on any status but the expected one. */
export async function callDaemon<T = unknown>(baseUrl: string, method: string, path: string, body?: unknown, expectedStatus = 200): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== expectedStatus) {
    throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}
