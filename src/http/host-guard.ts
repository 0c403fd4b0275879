import { RequestHandler } from 'express';
import { sendError } from './error-codes';
import { isLoopback } from './loopback';

/**
 * Without a tokens file the API trusts whoever reaches its port, which is only this machine's
 * loopback. A web page can still get there through DNS rebinding: its own host name made to
 * resolve to 127.0.0.1 makes it same-origin with the daemon. Such a request carries the page's
 * name in `Host`, so an open daemon answers only requests naming it by a loopback name or
 * address, the address it listens on, or a name given with `--allowed-host` (`*`: any), and
 * answers every other one 421 Misdirected Request, before any route runs.
 * With a tokens file the tokens decide and this guard is not installed.
 */
export function hostGuard(allowedHosts: readonly string[]): RequestHandler {
  const allowed = new Set(allowedHosts.map(normaliseHostName));
  const anyHost = allowed.has('*');
  return (req, res, next) => {
    const header = req.headers.host;
    // HTTP/1.0 clients may send no Host; a browser always sends one.
    const name = header === undefined ? undefined : hostNameOf(header);
    if (anyHost || name === undefined || isLoopback(name) || allowed.has(name)) {
      next();
      return;
    }
    sendError(res, 'misdirected', `Host '${header!.slice(0, 200)}' is not a name of this daemon: without a tokens file only loopback names and --allowed-host names are answered`);
  };
}

/** The host name of a `Host` header, without its port, brackets or trailing dot, lower case. */
export function hostNameOf(header: string): string {
  const value = header.trim();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return normaliseHostName(end > 0 ? value.slice(1, end) : value.slice(1));
  }
  const colon = value.lastIndexOf(':');
  // One colon separates a port; more than one is an IPv6 address without brackets.
  const name = colon >= 0 && value.indexOf(':') === colon ? value.slice(0, colon) : value;
  return normaliseHostName(name);
}

function normaliseHostName(name: string): string {
  return name.trim().toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
}
