import { z } from 'zod';
import { ValidationError } from '../domain/errors';
import { readObject, readString } from '../domain/json-reader';
import {
  InputAdapter, INPUT_FILE_PLACEHOLDER, OutputAdapter, OUTPUT_FILE_PLACEHOLDER, ProcessDefinition,
} from '../domain/process-definition';
import { absentOr, closedObject, nonEmptyString, readShape, REQUIRED, stringMap } from './shape';

const ADAPTER_PARAMETERS = ['file_type', 'stream_name', 'file_path'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A day: a hook is a short reaction to a scaling step, anything longer is a mistake in the definition. */
const MAX_TIMEOUT_S = 86_400;

const noNul = (s: string) => !s.includes('\0');
const commandString = (required?: string) => z.string({ invalid_type_error: 'must be a non-empty string', required_error: required ?? 'must be a non-empty string' })
  .min(1, 'must be a non-empty string').refine(noNul, 'must not contain NUL characters');
/** Arguments may be empty strings (a program can want one), unlike most strings of the contract; numbers and booleans are taken as text. */
const argument = z.union([z.string(), z.number(), z.boolean()], { errorMap: () => ({ message: 'must be a string' }) })
  .transform((v) => String(v)).refine(noNul, 'must not contain NUL characters');
const argumentList = z.array(argument, { invalid_type_error: 'must be an array of strings' }).optional();
const timeoutProblem = `must be a positive number of seconds (at most ${MAX_TIMEOUT_S})`;

/** The fields of a definition; the adapters' insides and the rules across fields are read after. */
const DEFINITION = closedObject({
  exec: commandString(REQUIRED),
  argv: argumentList,
  args: argumentList,
  environment: absentOr(stringMap()),
  cwd: absentOr(commandString().refine((p) => p.startsWith('/'), 'must be an absolute path (inside the container)')),
  timeout: absentOr(z.number({ invalid_type_error: timeoutProblem }).finite(timeoutProblem).positive(timeoutProblem).max(MAX_TIMEOUT_S, timeoutProblem)),
  input_adapter: z.unknown(),
  output_adapter: z.unknown(),
  application: absentOr(nonEmptyString()),
  // A hook must finish for the action it belongs to to finish; a long-running service cannot be a hook.
  process_type: z.unknown().refine((v) => v === undefined || v === null || v === 'single', "only 'single' is supported (a hook runs to completion)"),
});

/** Reads a process definition (the registry's `POST /api/process-definitions`, or inline in a tier's hook). */
export function parseProcessDefinition(value: unknown, field: string): ProcessDefinition {
  const obj = readShape(DEFINITION, value, field);
  const at = (key: string) => (field ? `${field}.${key}` : key);
  if (obj.argv !== undefined && obj.args !== undefined) throw new ValidationError(at('args'), 'give either argv or args, not both');
  const argvKey = obj.args !== undefined ? 'args' : 'argv';
  const argv = obj[argvKey] ?? [];
  const environment = obj.environment ?? {};
  for (const name of Object.keys(environment)) {
    if (!ENV_NAME.test(name)) throw new ValidationError(at(`environment.${name}`), 'is not a valid environment variable name');
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
    exec: obj.exec, argv, environment, cwd: obj.cwd, timeoutMs: obj.timeout === undefined ? undefined : Math.round(obj.timeout * 1000),
    inputAdapter, outputAdapter,
    document: JSON.parse(JSON.stringify(value)) as Record<string, unknown>,
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
  return readShape(commandString(), value, field);
}
