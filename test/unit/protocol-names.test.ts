/**
 * A protocol is data (CONTRIBUTING.md "Adding a workload protocol"): what makes it
 * different lives on its registry row, and code elsewhere asks the row's traits. This
 * test holds the recipe to the source tree: a protocol's name, as a whole string literal,
 * appears in src/ only in the files the recipe lists for that protocol (its own files and
 * the two registry tables); every file the recipe lists exists for every registered
 * protocol; and the scenario format lists every protocol. A `w.protocol === 'x'` branch
 * anywhere else fails here: give the row a trait instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from '../helpers/source-files.js';
import { PROTOCOL_NAMES, PROTOCOLS } from '../../src/scenario/protocols/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');

/** Every string literal of a file (in expressions and in types), with its line. */
function literals(file: string): { text: string; line: number }[] {
  const source = ts.createSourceFile(
    file,
    readFileSync(file, 'utf8'),
    ts.ScriptTarget.Latest,
    true,
  );
  const found: { text: string; line: number }[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      found.push({ text: node.text, line });
    }
    node.forEachChild(visit);
  };
  visit(source);
  return found;
}

/** The recipe's section of CONTRIBUTING.md. */
function recipe(): string {
  const text = readFileSync(join(ROOT, 'CONTRIBUTING.md'), 'utf8');
  const start = text.indexOf('## Adding a workload protocol');
  expect(start, 'CONTRIBUTING.md has the recipe').toBeGreaterThanOrEqual(0);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

/** The src/ files the recipe lists (backquoted paths), `<name>` standing for the protocol. */
function recipeSourceFiles(): string[] {
  const paths = [...recipe().matchAll(/`(src\/[^`\s]+\.ts)`/g)].map((m) => m[1]!);
  return [...new Set(paths)];
}

describe('protocols are data: names only on their registry rows', () => {
  const listed = recipeSourceFiles();

  it('the recipe lists the scenario row, the agent and both registry tables', () => {
    expect(listed.sort()).toEqual(
      [
        'src/scenario/protocols/<name>.ts',
        'src/scenario/protocols/index.ts',
        'src/workloads/<name>.ts',
        'src/workloads/index.ts',
      ].sort(),
    );
  });

  it('no file outside the recipe names a protocol', () => {
    const names = new Set<string>(PROTOCOL_NAMES);
    const stray: string[] = [];
    for (const file of sourceFiles(SRC)) {
      const path = relative(ROOT, file);
      // App profiles are workloads as a scenario writes them: data that names protocols
      // as a scenario file does, never a branch on one.
      if (path.startsWith('src/scenario/apps/')) continue;
      for (const { text, line } of literals(file)) {
        if (!names.has(text)) continue;
        const allowed = listed.map((p) => p.replaceAll('<name>', text));
        if (!allowed.includes(path)) stray.push(`${path}:${line} '${text}'`);
      }
    }
    expect(stray, 'protocol names outside their rows: ask a trait instead').toEqual([]);
  });

  it('the files the recipe lists exist for every registered protocol', () => {
    for (const name of PROTOCOL_NAMES) {
      for (const pattern of listed) {
        // A protocol without an agent (false: not written yet; 'orchestrator': run by src/run/) has no agent file.
        if (pattern === 'src/workloads/<name>.ts' && PROTOCOLS[name].agent !== true) continue;
        const path = pattern.replaceAll('<name>', name);
        expect(existsSync(join(ROOT, path)), `${name}: ${path}`).toBe(true);
      }
    }
  });

  it('the scenario format lists every protocol', () => {
    const doc = readFileSync(join(ROOT, 'docs/scenario-format.md'), 'utf8');
    const line = /^- `protocol`: ([\s\S]*?)\.\n/m.exec(doc)?.[1] ?? '';
    const documented = [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    expect(documented).toEqual(PROTOCOL_NAMES);
  });
});
