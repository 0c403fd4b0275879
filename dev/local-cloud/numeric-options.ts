import { parseArgs } from 'node:util';

/**
 * Whole-number options of a development tool, `--name N` or `--name=N`, with defaults. Anything else
 * (an unknown flag, a stray argument, a value that is not a whole number) stops the tool with its
 * usage line and exit code 2; `--help` prints the usage.
 */
export function numericOptions<K extends string>(defaults: Record<K, number>, usage: string, argv = process.argv.slice(2)): Record<K, number> {
  const fail = (message: string): never => {
    console.error(`${message}\n${usage}`);
    process.exit(2);
  };
  const options = Object.fromEntries([...Object.keys(defaults).map((name) => [name, { type: 'string' as const }]), ['help', { type: 'boolean' as const }]]);
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    return fail((err as Error).message);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const result = { ...defaults };
  for (const name of Object.keys(defaults) as K[]) {
    const raw = values[name];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (typeof raw !== 'string' || !/^\d+$/.test(raw) || !Number.isSafeInteger(n)) fail(`--${name} must be a whole number, got '${String(raw)}'`);
    result[name] = n;
  }
  return result;
}
