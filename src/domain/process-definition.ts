import { readObject, readString } from './json-reader';

/**
 * A process definition in the process-registry format: a program to run (inside a tier's
 * container, for hooks), how its input reaches it and how its output is read back.
 * TODO(hooks): full schema and validation rules.
 */
export interface ProcessDefinition {
  exec: string;
  argv: string[];
  environment: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  input_adapter?: unknown;
  output_adapter?: unknown;
}

export function parseProcessDefinition(value: unknown, field: string): ProcessDefinition {
  const obj = readObject(value, field);
  return { exec: readString(obj.exec, `${field}.exec`), argv: [], environment: {} };
}
