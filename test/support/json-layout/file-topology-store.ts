import * as path from 'path';
import { TopologyStore } from '../../../src/ports/state-store';
import { readJsonIfExists, writeFileAtomic } from './atomic-write';

/** `<state dir>/topology.json`. */
export class FileTopologyStore implements TopologyStore {
  private readonly file: string;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'topology.json');
  }

  load(): Promise<unknown | undefined> {
    return readJsonIfExists(this.file);
  }

  save(document: unknown): Promise<void> {
    return writeFileAtomic(this.file, JSON.stringify(document, null, 2) + '\n');
  }
}
