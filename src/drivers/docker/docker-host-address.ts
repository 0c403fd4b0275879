import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { NetworkInterfaceInfo } from 'node:os';
import Docker from 'dockerode';
import { InfrastructureError } from '../../domain/errors';

/**
 * The host's address on an engine's default bridge: the gateway the engine lists; failing that, the
 * address the bridge interface holds in the bridge's subnet (`interfaces` are this machine's, which
 * is where a local engine's bridge lives); failing that, the subnet's first address.
 */
export function bridgeGatewayAddress(
  bridge: Pick<Docker.NetworkInspectInfo, 'IPAM' | 'Options'>,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>,
): string | undefined {
  const configs = (bridge.IPAM?.Config ?? []) as { Subnet?: string; Gateway?: string }[];
  const listed = configs.find((c) => c.Gateway && isIP(c.Gateway) === 4)?.Gateway ?? configs.find((c) => c.Gateway)?.Gateway;
  if (listed) return listed;
  const subnet = configs.map((c) => (c.Subnet ? parseIpv4Cidr(c.Subnet) : undefined)).find((s) => s !== undefined);
  if (subnet === undefined) return undefined;
  const name = bridge.Options?.['com.docker.network.bridge.name'];
  const own = (name ? interfaces[name] ?? [] : [])
    .find((i) => i.family === 'IPv4' && inSubnet(i.address, subnet));
  if (own) return own.address;
  return ipv4ToString(subnet.network + 1);
}

interface Ipv4Subnet { network: number; bits: number }

function parseIpv4Cidr(cidr: string): Ipv4Subnet | undefined {
  const match = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr.trim());
  if (!match || isIP(match[1]) !== 4) return undefined;
  const bits = Number(match[2]);
  if (bits > 30) return undefined;
  return { network: (ipv4ToNumber(match[1]) & mask(bits)) >>> 0, bits };
}

function inSubnet(address: string, subnet: Ipv4Subnet): boolean {
  return isIP(address) === 4 && ((ipv4ToNumber(address) & mask(subnet.bits)) >>> 0) === subnet.network;
}

function mask(bits: number): number {
  return bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
}

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function ipv4ToString(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** A host name resolved to one address (IPv4 first); an address is returned as it is. */
export async function resolveHost(host: string, url: string): Promise<string> {
  if (isIP(host)) return host;
  try {
    const addresses = await lookup(host, { all: true });
    const chosen = addresses.find((a) => a.family === 4) ?? addresses[0];
    if (!chosen) throw new Error('no address');
    return chosen.address;
  } catch (err) {
    throw new InfrastructureError(`docker endpoint ${url}: cannot resolve '${host}': ${(err as Error).message}`, 'infrastructure', err);
  }
}
