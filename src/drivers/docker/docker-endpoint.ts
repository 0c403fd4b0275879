import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DockerOptions } from 'dockerode';
import { InfrastructureError, ValidationError } from '../../domain/errors';
import { EngineEndpoint } from '../../domain/vm';

/** How to reach a Docker engine: an engine endpoint of kind `docker`, the kind implied. */
export type DockerEndpoint = Pick<EngineEndpoint, 'url' | 'certPath'>;

/** Where an engine listens, as the driver needs it. */
export type EngineAddress =
  | { transport: 'unix'; socketPath: string }
  | { transport: 'tcp'; host: string; port: number; tls: boolean };

export function parseEngineAddress(endpoint: DockerEndpoint): EngineAddress {
  const { url } = endpoint;
  if (url.startsWith('unix://')) {
    const socketPath = url.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new ValidationError('docker', `'${url}' must name an absolute socket path (unix:///path)`);
    return { transport: 'unix', socketPath };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError('docker', `'${url}' is not a Docker endpoint (unix:///path, tcp://host:port or https://host:port)`);
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  if (!['tcp', 'http', 'https'].includes(scheme) || !parsed.hostname || !parsed.port) {
    throw new ValidationError('docker', `'${url}' is not a Docker endpoint (unix:///path, tcp://host:port or https://host:port)`);
  }
  // tcp:// is plain unless the node comes with client certificates, as with the docker CLI's DOCKER_CERT_PATH.
  const tls = scheme === 'https' || (scheme === 'tcp' && endpoint.certPath !== undefined);
  // URL keeps IPv6 literals bracketed; sockets want them bare.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return { transport: 'tcp', host, port: Number(parsed.port), tls };
}

/**
 * Options for dockerode. Every key is set explicitly, because docker-modem merges its own defaults
 * taken from DOCKER_HOST, DOCKER_CERT_PATH and DOCKER_CLIENT_TIMEOUT into whatever it is given:
 * a node's endpoint must not silently turn into the daemon's own environment.
 * No modem-wide timeout: it would cut long exec streams; the runtime times every call itself.
 */
export function dockerodeOptions(endpoint: DockerEndpoint): DockerOptions {
  const address = parseEngineAddress(endpoint);
  const options: Record<string, unknown> = {
    socketPath: undefined, host: undefined, port: undefined, protocol: undefined,
    ca: undefined, cert: undefined, key: undefined, timeout: undefined, pathPrefix: undefined, version: undefined,
  };
  if (address.transport === 'unix') {
    options.socketPath = address.socketPath;
    return options as DockerOptions;
  }
  options.host = address.host;
  options.port = address.port;
  options.protocol = address.tls ? 'https' : 'http';
  if (address.tls && endpoint.certPath !== undefined) {
    const read = (file: string) => {
      const path = join(endpoint.certPath!, file);
      try {
        return readFileSync(path);
      } catch (err) {
        throw new InfrastructureError(`docker endpoint ${endpoint.url}: cannot read TLS file ${path}: ${(err as Error).message}`, 'tls_files');
      }
    };
    options.ca = read('ca.pem');
    options.cert = read('cert.pem');
    options.key = read('key.pem');
  }
  return options as DockerOptions;
}

const LOOPBACK = /^(127\.|localhost$|::1$)/;

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host);
}
