import * as path from 'path';
import { NodeState, NodeStateStore } from '../../ports/node-state-store';
import { readJsonOrSetAside, writeFileAtomic } from './atomic-write';
import { log } from '../../log';

/**
 * `nodes.json` in the state dir, written atomically. A file that does not read is set aside
 * (`nodes.json.unreadable-<time>`) and counts as no cordons, with a warning.
 */
export class FileNodeStateStore implements NodeStateStore {
  private readonly file: string;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'nodes.json');
  }

  async load(): Promise<NodeState> {
    const isState = (d: unknown) => typeof d === 'object' && d !== null && Array.isArray((d as { cordoned?: unknown }).cordoned);
    const data = (await readJsonOrSetAside(this.file, isState, (message) => log.warn(`${message}; starting with no cordoned node`))) as
      { cordoned: unknown[] } | undefined;
    return { cordoned: (data?.cordoned ?? []).filter((n): n is string => typeof n === 'string') };
  }

  async save(state: NodeState): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify({ cordoned: [...state.cordoned].sort() }, null, 2)}\n`);
  }
}
