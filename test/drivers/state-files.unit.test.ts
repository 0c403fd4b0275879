import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FileNodeStateStore } from '../../src/drivers/fs/file-node-state-store';
import { FileSystemStore } from '../../src/drivers/fs/file-system-store';
import { SystemRecord } from '../../src/ports/system-store';

/** The JSON state files beside the database: one that does not read never stops the daemon, and is never overwritten. */
describe('state files that do not read', () => {
  let dir: string;
  beforeEach(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecoware-state-files-')); });
  afterEach(async () => { await fs.rm(dir, { recursive: true, force: true }); });

  const setAside = async (name: string) => (await fs.readdir(dir)).filter((f) => f.startsWith(`${name}.unreadable-`));

  it.each([
    ['cut short', '[{"sid": "a1", '],
    ['not a list', '{"sid": "a1"}'],
  ])('systems.json %s: set aside with its bytes, the store starts empty and writes a new file beside it', async (_what, content) => {
    await fs.writeFile(path.join(dir, 'systems.json'), content);
    const store = await FileSystemStore.open(dir);
    expect(store.list()).toEqual([]);
    const aside = await setAside('systems.json');
    expect(aside).toHaveLength(1);
    expect(await fs.readFile(path.join(dir, aside[0]), 'utf8')).toBe(content);
    await store.save({ sid: 'b2', created_at: '2026-01-01T00:00:00Z' } as SystemRecord);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'systems.json'), 'utf8')).map((r: SystemRecord) => r.sid)).toEqual(['b2']);
    expect(await fs.readFile(path.join(dir, aside[0]), 'utf8')).toBe(content);
  });

  it.each([
    ['cut short', '{"cordoned": ["node1"'],
    ['of another shape', '["node1"]'],
  ])('nodes.json %s: set aside with its bytes, no node cordoned', async (_what, content) => {
    await fs.writeFile(path.join(dir, 'nodes.json'), content);
    const store = new FileNodeStateStore(dir);
    expect(await store.load()).toEqual({ cordoned: [] });
    const aside = await setAside('nodes.json');
    expect(aside).toHaveLength(1);
    expect(await fs.readFile(path.join(dir, aside[0]), 'utf8')).toBe(content);
    await store.save({ cordoned: ['node2'] });
    expect(await store.load()).toEqual({ cordoned: ['node2'] });
    expect(await setAside('nodes.json')).toEqual(aside);
  });

  it('reads files that are well formed, and sets nothing aside', async () => {
    await fs.writeFile(path.join(dir, 'nodes.json'), '{"cordoned": ["node1", 7]}');
    await fs.writeFile(path.join(dir, 'systems.json'), '[{"sid": "a1", "created_at": "2026-01-01T00:00:00Z"}]');
    expect(await new FileNodeStateStore(dir).load()).toEqual({ cordoned: ['node1'] });
    expect((await FileSystemStore.open(dir)).list().map((r) => r.sid)).toEqual(['a1']);
    expect(await fs.readdir(dir)).toEqual(['nodes.json', 'systems.json']);
  });
});
