import { ProcessDefinition } from '../domain/process-definition';

export interface StoredProcessDefinition {
  id: string;
  definition: ProcessDefinition;
}

export interface ProcessDefinitionPage {
  /** Number of definitions in the registry, whatever the page. */
  total: number;
  items: StoredProcessDefinition[];
}

/**
 * The registry of process definitions that tiers name as `process:<id>`. Definitions are listed
 * in the order they were first stored. Ids assigned by `create` are decimal numbers ("1", "2" …)
 * as in the process registry; `put` may also store one under a chosen name.
 */
export interface ProcessDefinitionStore {
  /** `limit` undefined = every definition from `offset` on. */
  list(page: { limit?: number; offset: number }): Promise<ProcessDefinitionPage>;
  get(id: string): Promise<ProcessDefinition | undefined>;
  /** Stores a new definition under a fresh id and returns that id. */
  create(definition: ProcessDefinition): Promise<string>;
  /** Creates or replaces the definition `id`; `created` tells which. */
  put(id: string, definition: ProcessDefinition): Promise<{ created: boolean }>;
  /** Resolves false when there was no such definition. */
  delete(id: string): Promise<boolean>;
}
