/**
 * The shape of src/: no module reaches itself again through its imports, domain/ (types and
 * rules) imports nothing of src/ outside domain/, and no source file passes 600 lines. Type-only imports count: a cycle of types is
 * still a cycle a reader has to untangle.
 */
import * as fs from 'fs';
import * as path from 'path';

const SRC = path.resolve(__dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;

function resolveLocal(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (candidate.endsWith('.ts') && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = fs.readFileSync(file, 'utf8');
    const targets = new Set<string>();
    for (const match of text.matchAll(IMPORT)) {
      const target = resolveLocal(file, match[1] ?? match[2] ?? match[3]);
      if (target) targets.add(target);
    }
    graph.set(file, [...targets]);
  }
  return graph;
}

/** Every cycle found by a depth-first walk, each as the list of files around it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

const relative = (file: string): string => path.relative(SRC, file);

describe('imports of src/', () => {
  const graph = importGraph();

  it('reads the whole tree', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get(path.join(SRC, 'main.ts'))?.length).toBeGreaterThan(5);
  });

  it('form no cycle', () => {
    expect(cycles(graph).map((cycle) => cycle.map(relative).join(' -> '))).toEqual([]);
  });

  it('leave domain/ importing nothing above it', () => {
    const domain = path.join(SRC, 'domain') + path.sep;
    const upward = [...graph]
      .filter(([file]) => file.startsWith(domain))
      .flatMap(([file, targets]) => targets.filter((t) => !t.startsWith(domain)).map((t) => `${relative(file)} -> ${relative(t)}`));
    expect(upward).toEqual([]);
  });

  it('keeps every source file under 600 lines', () => {
    const long = [...graph.keys()]
      .map((file) => ({ file: relative(file), lines: fs.readFileSync(file, 'utf8').split('\n').length }))
      .filter(({ lines }) => lines > 600)
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    expect(long).toEqual([]);
  });

  it('finds a cycle and an upward import when there is one', () => {
    const a = path.join(SRC, 'domain/a.ts');
    const b = path.join(SRC, 'domain/b.ts');
    expect(cycles(new Map([[a, [b]], [b, [a]]])).map((c) => c.map(relative))).toEqual([['domain/a.ts', 'domain/b.ts', 'domain/a.ts']]);
    expect(cycles(new Map([[a, [b]], [b, []]]))).toEqual([]);
  });
});
