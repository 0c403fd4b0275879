import { startLocalCloud } from './local-cloud';

/**
 * Runs the local cloud until interrupted:
 *
 *   scripts/local-cloud.sh [--port 4566] [--group ecoware-local] [--min 0] [--max 4] [--desired 1]
 *                          [--boot-delay-ms 2000] [--image ecoware/busybox:latest]... [--access-key-id AKID]
 *
 * and prints the cloud_driver block a topology needs to use it.
 */
const USAGE = 'usage: local-cloud [--port N] [--group NAME] [--min N] [--max N] [--desired N] [--boot-delay-ms N] [--image IMAGE]... [--access-key-id KEY] [--state-dir DIR]';

function parseArgs(argv: string[]): Map<string, string[]> {
  const args = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument '${argv[i]}'\n${USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value\n${USAGE}`);
    args.set(m[1], [...(args.get(m[1]) ?? []), value]);
  }
  return args;
}

function integer(args: Map<string, string[]>, name: string, fallback: number): number {
  const raw = args.get(name)?.at(-1);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a non-negative whole number\n${USAGE}`);
  return value;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.has('help')) {
    console.log(USAGE);
    return;
  }
  const known = ['port', 'group', 'min', 'max', 'desired', 'boot-delay-ms', 'image', 'access-key-id', 'state-dir'];
  for (const name of args.keys()) if (!known.includes(name)) throw new Error(`unknown option --${name}\n${USAGE}`);

  const group = args.get('group')?.at(-1) ?? 'ecoware-local';
  const cloud = await startLocalCloud({
    port: integer(args, 'port', 4566),
    groups: [{ name: group, minSize: integer(args, 'min', 0), maxSize: integer(args, 'max', 4), desiredCapacity: integer(args, 'desired', 1) }],
    bootDelayMs: integer(args, 'boot-delay-ms', 2000),
    images: args.get('image'),
    accessKeyId: args.get('access-key-id')?.at(-1),
    stateDir: args.get('state-dir')?.at(-1),
    log: (line) => console.log(`${new Date().toISOString()} ${line}`),
  });
  console.log(`local cloud listening on ${cloud.endpoint} (state: GET ${cloud.endpoint}/_local/state)`);
  console.log('cloud_driver for a topology:');
  console.log(JSON.stringify({ autoscaling_groupname: group, region: cloud.region, endpoint: cloud.endpoint }, null, 2));
  if (!args.has('access-key-id')) console.log('(any credentials are accepted; set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a credentials file for the SDK)');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: terminating every instance`);
    await cloud.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
