/**
 * The import graph of src/ (docs/architecture.md "The layers"): no module imports a layer
 * above its own, and no modules import one another in a circle, so every module can be
 * read (and loaded) after the ones it imports. Type-only imports count too: a cycle of
 * types still ties two modules together. The graph is read with TypeScript's own
 * import scanner.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from '../helpers/source-files.js';

const SRC = resolve(import.meta.dirname, '../../src');

/**
 * Cycles known and being removed elsewhere, each as its sorted module list. Empty means
 * none may exist; an entry that no longer occurs fails too, so the list only shrinks.
 */
const KNOWN_CYCLES: string[][] = [];

/** Bottom to top; a top-level folder or file of src/ per entry, peers share a row. */
const LAYERS = [
  ['addresses.ts', 'errors.ts', 'files'],
  ['scenario'],
  ['record', 'native'],
  ['workloads', 'metrics', 'resolver'],
  ['orchestrate', 'agent'],
  ['run', 'report', 'simulate'],
  ['sweep'],
  ['cli'],
  ['index.ts'],
];

function layerOf(file: string): number {
  const top = relative(SRC, file).split('/')[0]!;
  const layer = LAYERS.findIndex((row) => row.includes(top));
  if (layer < 0)
    throw new Error(`src/${top} has no layer: add it to LAYERS and docs/architecture.md`);
  return layer;
}

/** Each module's relative imports (static, type-only, re-exports and dynamic), as files. */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  return new Map(
    files.map((file) => {
      const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      const targets = importedFiles
        .map((i) => i.fileName)
        .filter((name) => name.startsWith('.'))
        .map((name) => resolve(dirname(file), name.replace(/\.js$/, '.ts')))
        .filter((target) => known.has(target));
      return [file, targets];
    }),
  );
}

/** Strongly connected components of more than one module, or a module importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)?.includes(v)) found.push(component);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('import graph of src/', () => {
  const graph = importGraph(sourceFiles(SRC));
  const found = cycles(graph)
    .map((c) => c.map((f) => relative(SRC, f)).sort())
    .sort((a, b) => a.join().localeCompare(b.join()));

  it('reads the imports it is meant to check', () => {
    // A scanner that saw nothing would find no cycles: check it sees known edges.
    const edges = (f: string) => (graph.get(join(SRC, f)) ?? []).map((t) => relative(SRC, t));
    expect(edges('scenario/compile.ts')).toContain('scenario/actions/index.ts');
    expect(edges('scenario/compiled.ts')).toContain('scenario/fields.ts'); // type-only
    expect(graph.size).toBeGreaterThan(100);
  });

  it('finds a cycle when there is one', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cycles(g).map((c) => c.sort())).toEqual([['a', 'b', 'c']]);
    expect(cycles(new Map([['a', ['a']]]))).toEqual([['a']]);
  });

  it('has no import from a layer above', () => {
    const upward = [...graph].flatMap(([from, targets]) =>
      targets
        .filter((to) => layerOf(to) > layerOf(from))
        .map((to) => `${relative(SRC, from)} -> ${relative(SRC, to)}`),
    );
    expect(upward).toEqual([]);
  });

  it('has no cycles beyond the known ones, and every known one still exists', () => {
    expect(found).toEqual(KNOWN_CYCLES);
  });
});
