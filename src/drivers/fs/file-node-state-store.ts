import * as path from 'path';
import { NodeState, NodeStateStore } from '../../ports/node-state-store';
import { readJsonIfExists, writeFileAtomic } from './atomic-write';
import { log } from '../../log';

/** `nodes.json` in the state dir, written atomically. An unreadable file counts as no cordons, with a warning. */
export class FileNodeStateStore implements NodeStateStore {
  private readonly file: string;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'nodes.json');
  }

  async load(): Promise<NodeState> {
    try {
      const data = (await readJsonIfExists(this.file)) as { cordoned?: unknown } | undefined;
      const cordoned = Array.isArray(data?.cordoned) ? data!.cordoned.filter((n): n is string => typeof n === 'string') : [];
      return { cordoned };
    } catch (e) {
      log.warn(`${this.file} is unreadable (${(e as Error).message}); starting with no cordoned node`);
      return { cordoned: [] };
    }
  }

  async save(state: NodeState): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify({ cordoned: [...state.cordoned].sort() }, null, 2)}\n`);
  }
}
