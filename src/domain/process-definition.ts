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
 * first examples) or written directly in the adapter object. docs/hooks.md lists what is accepted;
 * src/schema/process-definition.ts reads it.
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
