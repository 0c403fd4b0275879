import { promises as fs } from 'fs';
import { Command } from 'commander';
import { DaemonClient, withDaemonUrl } from './daemon-client';
import { printTable } from './table';
import { printJson } from './input';

/**
 * `ecoware-executor systems up|ls|status|down`: systems from compose files on a running daemon
 * (`/api/systems`). Output is a short table; `--json` prints the daemon's answer as it is.
 */
export function register(program: Command): void {
  const systems = program.command('systems').description('start, list, inspect and delete systems from compose files');

  withDaemonUrl(systems.command('up')
    .description('start the system of a compose file and wait until its services are ready')
    .argument('<file>', 'compose file (YAML)')
    .option('--env-file <file>', '.env file for interpolation')
    .option('--name <name>', "system name (default: the file's top-level name)")
    .option('--namespace <ns>', 'namespace', undefined)
    .option('--no-wait', 'answer as soon as the start is accepted'))
    .option('--json', 'print the JSON answer')
    .action(async (file: string, opts: { envFile?: string; name?: string; namespace?: string; wait: boolean; url: string; json?: boolean }) => {
      const body = {
        compose: await fs.readFile(file, 'utf8'),
        ...(opts.envFile ? { env: await fs.readFile(opts.envFile, 'utf8') } : {}),
        ...(opts.name ? { name: opts.name } : {}),
        ...(opts.namespace ? { namespace: opts.namespace } : {}),
      };
      const answer = await call(opts.url, 'POST', `/api/systems${opts.wait ? '' : '?wait=false'}`, body);
      if (opts.json) return printJson(answer);
      const result = answer.result as { name: string; sid: string; namespace: string; warnings?: string[]; containers: Record<string, { ports: Port[] }> };
      console.log(`${String(answer.message ?? 'started')}\nsid ${result.sid}  namespace ${result.namespace}`);
      for (const w of result.warnings ?? []) console.log(`warning: ${w}`);
      printPorts(Object.fromEntries(Object.entries(result.containers).map(([svc, c]) => [svc, c.ports])));
    });

  withDaemonUrl(systems.command('ls')
    .description('list systems')
    .option('--namespace <ns>', 'only this namespace'))
    .option('--json', 'print the JSON answer')
    .action(async (opts: { namespace?: string; url: string; json?: boolean }) => {
      const list = await call(opts.url, 'GET', `/api/systems${opts.namespace ? `?namespace=${encodeURIComponent(opts.namespace)}` : ''}`) as unknown as
        { sid: string; name: string; namespace: string; status: string; created_at: string }[];
      if (opts.json) return printJson(list);
      printTable([['SID', 'NAME', 'NAMESPACE', 'STATUS', 'CREATED'], ...list.map((s) => [s.sid, s.name, s.namespace, s.status, s.created_at])]);
    });

  withDaemonUrl(systems.command('status')
    .description("a system's services as the engines report them")
    .argument('<sid>', 'the system id'))
    .option('--json', 'print the JSON answer')
    .action(async (sid: string, opts: { url: string; json?: boolean }) => {
      const status = await call(opts.url, 'GET', `/api/systems/${encodeURIComponent(sid)}`) as
        { app: string; ready: boolean; services: Record<string, { state: string; health?: string; ready: boolean; containers: { vm: string; ports: Port[] }[] }> };
      if (opts.json) return printJson(status);
      console.log(`${status.app}: ${status.ready ? 'ready' : 'not ready'}`);
      printTable([['SERVICE', 'STATE', 'HEALTH', 'READY', 'VMS', 'PORTS'], ...Object.entries(status.services).map(([svc, s]) => [
        svc, s.state, s.health ?? '-', String(s.ready), s.containers.map((c) => c.vm).join(',') || '-',
        s.containers.flatMap((c) => c.ports).map(formatPort).join(' ') || '-',
      ])]);
    });

  withDaemonUrl(systems.command('down')
    .description('delete a system: containers, networks, its app; volumes with --volumes')
    .argument('<sid>', 'the system id')
    .option('--volumes', 'remove its named volumes too'))
    .option('--json', 'print the JSON answer')
    .action(async (sid: string, opts: { volumes?: boolean; url: string; json?: boolean }) => {
      const answer = await call(opts.url, 'DELETE', `/api/systems/${encodeURIComponent(sid)}${opts.volumes ? '?volumes=true' : ''}`);
      if (opts.json) return printJson(answer);
      console.log(String(answer.message));
    });
}

interface Port { container_port: number; host_port: number; protocol: string; vm: string; address?: string }

/** The daemon's answer to a systems request; errors and an unreachable daemon become CliErrors with their exit codes. */
async function call(url: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  return new DaemonClient(url).call<Record<string, unknown>>(method, path, body);
}

function printPorts(byService: Record<string, Port[]>): void {
  printTable([['SERVICE', 'PORTS'], ...Object.entries(byService).map(([svc, ports]) => [svc, ports.map(formatPort).join(' ') || '-'])]);
}

function formatPort(p: Port): string {
  return `${p.container_port}/${p.protocol}->${p.address ?? p.vm}:${p.host_port}`;
}

