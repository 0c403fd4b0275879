import { ValidationError } from './errors';
import { readObject, readString, readStringMap } from './json-reader';

/**
 * A process definition in the process-registry format: a program to run (inside a tier's
 * container, for hooks), how the hook payload reaches it and how its output is read back.
 *
 *   {
 *     "exec": "/bin/sh", "argv": ["/opt/tune.sh", "${input_file}"],
 *     "environment": {"MODE": "fast"}, "cwd": "/opt", "timeout": 30,
 *     "input_adapter":  {"input_type": "file", "input_parameters": {"file_path": "${input_file}"}},
 *     "output_adapter": {"output_type": "file", "output_parameters": {"file_type": "stream", "stream_name": "STDOUT"}}
 *   }
 *
 * Adapter parameters may be nested (`input_parameters`, or `input_params` as in the registry's
 * first examples) or written directly in the adapter object. docs/hooks.md lists what is accepted.
 */
export interface ProcessDefinition {
  exec: string;
  argv: string[];
  environment: Record<string, string>;
  cwd?: string;
  /** The definition's own `timeout`; when absent the tier's or the infrastructure's hook timeout applies. */
  timeoutMs?: number;
  inputAdapter: InputAdapter;
  outputAdapter: OutputAdapter;
  /** The definition as given (after validation): what the registry stores and returns. */
  document: Record<string, unknown>;
}

/**
 * How the payload reaches the process. `path` undefined means a file the executor names, whose path
 * replaces `${input_file}`; an absolute path is used as is.
 */
export type InputAdapter = { kind: 'stdin' } | { kind: 'file'; path?: string };

/** Where the process's result is read from after it ran; kept as the hook's output. */
export type OutputAdapter =
  | { kind: 'none' }
  | { kind: 'stream'; stream: 'STDOUT' | 'STDERR' }
  | { kind: 'file'; path?: string };

export const INPUT_FILE_PLACEHOLDER = '${input_file}';
export const OUTPUT_FILE_PLACEHOLDER = '${output_file}';

const TOP_LEVEL_FIELDS = new Set([
  'exec', 'argv', 'args', 'environment', 'cwd', 'timeout', 'input_adapter', 'output_adapter', 'application', 'process_type',
]);
const ADAPTER_PARAMETERS = ['file_type', 'stream_name', 'file_path'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A day: a hook is a short reaction to a scaling step, anything longer is a mistake in the definition. */
const MAX_TIMEOUT_S = 86_400;

export function parseProcessDefinition(value: unknown, field: string): ProcessDefinition {
  const obj = readObject(value, field);
  const at = (key: string) => (field ? `${field}.${key}` : key);
  for (const key of Object.keys(obj)) {
    if (!TOP_LEVEL_FIELDS.has(key)) {
      throw new ValidationError(at(key), `unknown field (expected ${[...TOP_LEVEL_FIELDS].join(', ')})`);
    }
  }
  if (obj.exec === undefined) throw new ValidationError(at('exec'), 'is required');
  const exec = readCommandString(obj.exec, at('exec'));

  if (obj.argv !== undefined && obj.args !== undefined) throw new ValidationError(at('args'), 'give either argv or args, not both');
  const argvKey = obj.args !== undefined ? 'args' : 'argv';
  const argv = obj[argvKey] === undefined ? [] : readArguments(obj[argvKey], at(argvKey));

  const environment = obj.environment === undefined || obj.environment === null ? {} : readStringMap(obj.environment, at('environment'));
  for (const name of Object.keys(environment)) {
    if (!ENV_NAME.test(name)) throw new ValidationError(at(`environment.${name}`), 'is not a valid environment variable name');
  }
  const cwd = obj.cwd === undefined || obj.cwd === null ? undefined : readAbsolutePath(obj.cwd, at('cwd'));
  const timeoutMs = readTimeout(obj.timeout, at('timeout'));
  if (obj.application !== undefined && obj.application !== null) readString(obj.application, at('application'));
  if (obj.process_type !== undefined && obj.process_type !== null && obj.process_type !== 'single') {
    // A hook must finish for the action it belongs to to finish; a long-running service cannot be a hook.
    throw new ValidationError(at('process_type'), "only 'single' is supported (a hook runs to completion)");
  }

  const inputAdapter = obj.input_adapter === undefined || obj.input_adapter === null
    ? { kind: 'stdin' as const }
    : parseInputAdapter(obj.input_adapter, at('input_adapter'));
  const outputAdapter = obj.output_adapter === undefined || obj.output_adapter === null
    ? { kind: 'none' as const }
    : parseOutputAdapter(obj.output_adapter, at('output_adapter'));

  // A placeholder that no adapter fills would reach the process verbatim: refuse it up front.
  const uses: { value: string; field: string }[] = [
    ...argv.map((a, i) => ({ value: a, field: at(`${argvKey}[${i}]`) })),
    ...Object.entries(environment).map(([k, v]) => ({ value: v, field: at(`environment.${k}`) })),
  ];
  for (const use of uses) {
    if (use.value.includes(INPUT_FILE_PLACEHOLDER) && inputAdapter.kind !== 'file') {
      throw new ValidationError(use.field, `uses ${INPUT_FILE_PLACEHOLDER} but input_adapter is not a file adapter`);
    }
    if (use.value.includes(OUTPUT_FILE_PLACEHOLDER) && outputAdapter.kind !== 'file') {
      throw new ValidationError(use.field, `uses ${OUTPUT_FILE_PLACEHOLDER} but output_adapter is not a file adapter`);
    }
  }

  return {
    exec, argv, environment, cwd, timeoutMs, inputAdapter, outputAdapter,
    document: JSON.parse(JSON.stringify(obj)) as Record<string, unknown>,
  };
}

function parseInputAdapter(value: unknown, field: string): InputAdapter {
  const params = readAdapter(value, field, 'input');
  if (params.fileType === 'stream') {
    if (params.streamName !== 'STDIN') {
      throw new ValidationError(params.streamNameField, "an input stream must be 'STDIN'");
    }
    return { kind: 'stdin' };
  }
  return { kind: 'file', path: params.filePath === INPUT_FILE_PLACEHOLDER ? undefined : params.filePath };
}

function parseOutputAdapter(value: unknown, field: string): OutputAdapter {
  const params = readAdapter(value, field, 'output');
  if (params.fileType === 'stream') {
    if (params.streamName !== 'STDOUT' && params.streamName !== 'STDERR') {
      throw new ValidationError(params.streamNameField, "an output stream must be 'STDOUT' or 'STDERR'");
    }
    return { kind: 'stream', stream: params.streamName };
  }
  return { kind: 'file', path: params.filePath === OUTPUT_FILE_PLACEHOLDER ? undefined : params.filePath };
}

interface AdapterParameters {
  fileType: 'stream' | 'file';
  streamName?: string;
  streamNameField: string;
  filePath?: string;
}

/**
 * Reads `{<dir>_type: "file", <dir>_parameters: {...}}`, with the parameters also accepted under
 * `<dir>_params` or directly in the adapter object.
 */
function readAdapter(value: unknown, field: string, direction: 'input' | 'output'): AdapterParameters {
  const obj = readObject(value, field);
  const typeKey = `${direction}_type`;
  const nestedKeys = [`${direction}_parameters`, `${direction}_params`];
  const known = new Set([typeKey, ...nestedKeys, ...ADAPTER_PARAMETERS]);
  for (const key of Object.keys(obj)) {
    if (!known.has(key)) throw new ValidationError(`${field}.${key}`, `unknown field (expected ${[...known].join(', ')})`);
  }
  if (obj[typeKey] === undefined) throw new ValidationError(`${field}.${typeKey}`, "is required ('file')");
  if (obj[typeKey] !== 'file') {
    throw new ValidationError(`${field}.${typeKey}`, `unknown ${direction} type ${JSON.stringify(obj[typeKey])} (supported: 'file')`);
  }
  const nestedPresent = nestedKeys.filter((k) => obj[k] !== undefined && obj[k] !== null);
  if (nestedPresent.length > 1) throw new ValidationError(`${field}.${nestedPresent[1]}`, `give either ${nestedKeys.join(' or ')}, not both`);

  // Each parameter is read from where it was given, so an error names that place.
  const sources: { obj: Record<string, unknown>; field: string }[] = [{ obj, field }];
  if (nestedPresent.length === 1) {
    const nestedField = `${field}.${nestedPresent[0]}`;
    const nested = readObject(obj[nestedPresent[0]], nestedField);
    for (const key of Object.keys(nested)) {
      if (!ADAPTER_PARAMETERS.includes(key)) {
        throw new ValidationError(`${nestedField}.${key}`, `unknown parameter (expected ${ADAPTER_PARAMETERS.join(', ')})`);
      }
    }
    sources.push({ obj: nested, field: nestedField });
  }
  const find = (key: string): { value: unknown; field: string } | undefined => {
    const found = sources.filter((s) => s.obj[key] !== undefined && s.obj[key] !== null);
    if (found.length > 1) throw new ValidationError(`${found[1].field}.${key}`, 'is given twice');
    return found.length === 1 ? { value: found[0].obj[key], field: `${found[0].field}.${key}` } : undefined;
  };

  const fileType = find('file_type');
  const streamName = find('stream_name');
  const filePath = find('file_path');
  const defaultParamsField = `${field}.${nestedKeys[0]}`;

  if (fileType !== undefined && fileType.value !== 'stream' && fileType.value !== 'file') {
    throw new ValidationError(fileType.field, `unknown file type ${JSON.stringify(fileType.value)} (supported: 'stream', 'file')`);
  }
  const isStream = fileType?.value === 'stream' || (fileType === undefined && streamName !== undefined && filePath === undefined);
  if (isStream) {
    if (filePath !== undefined) throw new ValidationError(filePath.field, "a stream adapter takes stream_name, not file_path");
    if (streamName === undefined) throw new ValidationError(`${defaultParamsField}.stream_name`, 'is required for a stream adapter');
    return { fileType: 'stream', streamName: readString(streamName.value, streamName.field), streamNameField: streamName.field };
  }
  if (streamName !== undefined) throw new ValidationError(streamName.field, "a file adapter takes file_path, not stream_name");
  if (filePath === undefined) {
    throw new ValidationError(`${defaultParamsField}.file_path`, `is required (or file_type 'stream' with stream_name)`);
  }
  const placeholder = direction === 'input' ? INPUT_FILE_PLACEHOLDER : OUTPUT_FILE_PLACEHOLDER;
  const path = readCommandString(filePath.value, filePath.field);
  if (path !== placeholder && !path.startsWith('/')) {
    throw new ValidationError(filePath.field, `must be '${placeholder}' or an absolute path`);
  }
  return { fileType: 'file', filePath: path, streamNameField: defaultParamsField };
}

function readCommandString(value: unknown, field: string): string {
  const s = readString(value, field);
  if (s.includes('\0')) throw new ValidationError(field, 'must not contain NUL characters');
  return s;
}

/** Arguments may be empty strings (a program can want one), unlike most strings of the contract. */
function readArguments(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw new ValidationError(field, 'must be an array of strings');
  return value.map((item, i) => {
    if (typeof item === 'number' || typeof item === 'boolean') return String(item);
    if (typeof item !== 'string') throw new ValidationError(`${field}[${i}]`, 'must be a string');
    if (item.includes('\0')) throw new ValidationError(`${field}[${i}]`, 'must not contain NUL characters');
    return item;
  });
}

function readAbsolutePath(value: unknown, field: string): string {
  const path = readCommandString(value, field);
  if (!path.startsWith('/')) throw new ValidationError(field, 'must be an absolute path (inside the container)');
  return path;
}

function readTimeout(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT_S) {
    throw new ValidationError(field, `must be a positive number of seconds (at most ${MAX_TIMEOUT_S})`);
  }
  return Math.round(value * 1000);
}

/** Substitutes the adapters' file paths for `${input_file}` and `${output_file}` in argv and environment values. */
export function expandPlaceholders(
  definition: ProcessDefinition,
  files: { inputFile?: string; outputFile?: string },
): { argv: string[]; environment: Record<string, string> } {
  const expand = (s: string): string => {
    let out = s;
    if (files.inputFile !== undefined) out = out.split(INPUT_FILE_PLACEHOLDER).join(files.inputFile);
    if (files.outputFile !== undefined) out = out.split(OUTPUT_FILE_PLACEHOLDER).join(files.outputFile);
    return out;
  };
  const environment: Record<string, string> = {};
  for (const [k, v] of Object.entries(definition.environment)) environment[k] = expand(v);
  return { argv: definition.argv.map(expand), environment };
}
