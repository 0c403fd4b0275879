import { readFileSync } from 'fs';
import { createServer as createHttpServer, RequestListener, Server } from 'http';
import { createServer as createHttpsServer } from 'https';
import { AddressInfo } from 'net';
import type { DaemonConfig } from '../config';
import { log } from '../log';
import { AccessControl, isLoopback, TokensFileError } from './access';

/** The daemon refuses to start as configured (open API beyond loopback, unusable tokens or certificates). */
export class StartupError extends Error {}

/** How the API is served: where, to whom (tokens), over TLS or not, and under which host names. */
export interface PortSettings {
  host: string;
  access?: AccessControl;
  tls?: { cert: Buffer; key: Buffer };
  /** Without tokens, only the names of this daemon are answered (DNS rebinding; src/http/host-guard.ts). */
  allowedHosts?: string[];
}

/**
 * The refusal rules: an API reachable beyond loopback needs tokens (or `--insecure-no-auth`); a TLS
 * certificate goes with its key; an unusable tokens file is a refusal too (exit 2).
 */
export function portSettings(
  config: Partial<Pick<DaemonConfig, 'host' | 'tokensFile' | 'insecureNoAuth' | 'tlsCert' | 'tlsKey' | 'allowedHosts'>>, defaultHost: string,
): PortSettings {
  const host = config.host ?? defaultHost;
  const access = config.tokensFile ? readTokens(config.tokensFile) : undefined;
  if (!access && !isLoopback(host) && !config.insecureNoAuth) {
    throw new StartupError(`refusing to listen on ${host} without --tokens-file: anyone who reaches the port could change the fleet (use --insecure-no-auth to do it anyway)`);
  }
  if (!!config.tlsCert !== !!config.tlsKey) throw new StartupError('--tls-cert and --tls-key go together');
  const tls = config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : undefined;
  const allowedHosts = access ? undefined : [...(config.allowedHosts ?? []), ...(isWildcard(host) ? [] : [host])];
  return { host, access, tls, allowedHosts };
}

/** The API's port, open. */
export interface OpenPort {
  url: string;
  /** Stops answering: idle and open connections are closed. */
  close(): Promise<void>;
}

/**
 * Serves `app` on `port`, or on `taken`, a server already listening there (src/http/early-listener.ts),
 * which is taken over. `about` goes into the `listening` log line.
 */
export async function openPort(app: RequestListener, settings: PortSettings, port: number, taken?: Server, about: Record<string, unknown> = {}): Promise<OpenPort> {
  const { host, tls, access } = settings;
  const server: Server = taken ?? (tls ? createHttpsServer(tls, app) : createHttpServer(app));
  if (taken) {
    taken.removeAllListeners('request');
    taken.on('request', app);
  } else {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => { server.off('error', reject); resolve(); });
    });
  }
  const address = server.address() as AddressInfo;
  const url = `${tls ? 'https' : 'http'}://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;
  log.info({ url, ...about, auth: access ? 'tokens' : 'none', tls: !!tls }, 'listening');
  return {
    url,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      server.closeAllConnections();
      await closed;
    },
  };
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

function readTokens(file: string): AccessControl {
  try {
    return AccessControl.fromFile(file);
  } catch (e) {
    throw e instanceof TokensFileError ? new StartupError(e.message) : e;
  }
}
