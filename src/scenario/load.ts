/**
 * Text → a checked Scenario, or every problem located as file:line:col. YAML 1.2 and
 * JSON both go through the `yaml` parser (JSON is YAML 1.2), so both get positions.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { $ZodIssue, $ZodRawIssue } from 'zod/v4/core';
import { ScenarioError, type KeyPath, type Problem, type UnlocatedProblem } from './errors.js';
import { checkProvenance } from './provenance.js';
import { checkReferences } from './refs.js';
import { ScenarioSchema, type Scenario } from './schema.js';
import { didYouMean } from './suggest.js';
import { describeFound } from './units.js';

export type Validation = { ok: true; scenario: Scenario } | { ok: false; problems: Problem[] };

export function validateScenarioText(text: string, file: string): Validation {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    version: '1.2',
    uniqueKeys: true,
    prettyErrors: false,
  });
  const at = (offset: number) => lineCounter.linePos(offset);
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const { line, col } = at(e.pos[0]);
      return { file, line, col, path: '', message: yamlMessage(e.message) };
    });
    return { ok: false, problems: sortProblems(problems) };
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  if (raw === null || raw === undefined || typeof raw !== 'object' || Array.isArray(raw)) {
    return {
      ok: false,
      problems: [
        {
          file,
          line: 1,
          col: 1,
          path: '',
          message: `expected a scenario map starting with version: 1, found ${describeFound(raw ?? undefined)}`,
        },
      ],
    };
  }

  const knownKeys = new Map<unknown, string[]>();
  const result = ScenarioSchema.safeParse(raw, { error: (iss) => issueMessage(iss, knownKeys) });
  const unlocated: UnlocatedProblem[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) unlocated.push(...flatten(issue, [], raw, knownKeys));
  }
  unlocated.push(...checkReferences(raw), ...checkProvenance(raw));
  const precise = unlocated.filter((u) => !u.fallback);
  const shown = unlocated.filter(
    (u) =>
      !u.fallback ||
      !precise.some(
        (p) => p.path.length > u.path.length && u.path.every((seg, i) => p.path[i] === seg),
      ),
  );

  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const u of shown) {
    const { line, col } = at(locate(doc, u.path, u.atKey === true));
    const p = { file, line, col, path: formatPath(u.path), message: u.message };
    const key = `${p.line}:${p.col}:${p.path}:${p.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(p);
    }
  }
  if (problems.length > 0 || !result.success)
    return { ok: false, problems: sortProblems(problems) };
  return { ok: true, scenario: result.data };
}

/** Parse and check, or throw a ScenarioError holding every problem. */
export function parseScenarioText(text: string, file: string): Scenario {
  const v = validateScenarioText(text, file);
  if (!v.ok) throw new ScenarioError(file, v.problems);
  return v.scenario;
}

export async function loadScenarioFile(path: string, display = path): Promise<Scenario> {
  return parseScenarioText(await readFile(path, 'utf8'), display);
}

export function formatPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

function sortProblems(problems: Problem[]): Problem[] {
  return problems.sort((a, b) => a.line - b.line || a.col - b.col || a.path.localeCompare(b.path));
}

function yamlMessage(message: string): string {
  // The yaml package appends " at line L, column C" and a code frame; we print our own position.
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

// ---- zod issues → problems ---------------------------------------------------------

type Issue = $ZodIssue;

const TYPE_WORDS: Record<string, string> = {
  object: 'a map',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  record: 'a map',
};

/** Messages for zod's built-in checks; schema-level messages (units, names) take precedence. */
function issueMessage(iss: $ZodRawIssue, knownKeys: Map<unknown, string[]>): string | undefined {
  const found = describeFound(iss.input);
  switch (iss.code) {
    case 'invalid_type': {
      const what = TYPE_WORDS[iss.expected] ?? iss.expected;
      return iss.input === undefined
        ? `missing; expected ${what}`
        : `expected ${what}, found ${found}`;
    }
    case 'invalid_value': {
      const values = iss.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
      const hint = typeof iss.input === 'string' ? didYouMean(iss.input, values) : '';
      if (iss.input === undefined) return `missing; expected ${values.join(' | ')}`;
      return values.length === 1
        ? `expected ${values[0]}, found ${found}`
        : `expected one of ${values.join(', ')}, found ${found}${hint}`;
    }
    case 'too_small': {
      const min = Number(iss.minimum);
      if (iss.origin === 'array')
        return `expected at least ${min} item${min === 1 ? '' : 's'}, found ${found === 'a list' ? 'an empty list' : found}`;
      if (iss.origin === 'string') return `expected a non-empty string, found ${found}`;
      return `expected a number ${iss.inclusive ? '>=' : '>'} ${min}, found ${found}`;
    }
    case 'too_big':
      return `expected a number ${iss.inclusive ? '<=' : '<'} ${Number(iss.maximum)}, found ${found}`;
    case 'unrecognized_keys': {
      const shape = (
        iss.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined
      )?._zod?.def?.shape;
      if (shape) knownKeys.set(iss.input, Object.keys(shape));
      return undefined;
    }
    case 'invalid_format':
      return `expected ${iss.format}, found ${found}`;
    default:
      return undefined;
  }
}

/**
 * A union branch "does not apply" when it rejects the value's very type, not its
 * contents. A string rejected by an enum does apply: its message can say "did you mean".
 */
function rejectsType(issues: readonly Issue[], value: unknown): boolean {
  return issues.every(
    (i) =>
      i.path.length === 0 &&
      (i.code === 'invalid_type' ||
        (i.code === 'invalid_value' &&
          !(typeof value === 'string' && i.values.every((v) => typeof v === 'string'))) ||
        (i.code === 'invalid_union' && i.errors.every((e) => rejectsType(e, value)))),
  );
}

function flatten(
  issue: Issue,
  base: KeyPath,
  raw: unknown,
  knownKeys: Map<unknown, string[]>,
): UnlocatedProblem[] {
  const path: KeyPath = [...base, ...(issue.path as KeyPath)];
  switch (issue.code) {
    case 'invalid_union': {
      // Report the errors of the alternative the value was evidently meant to be (a map
      // for a matcher map, a list for a list of matchers), not "invalid input".
      const value = valueAt(raw, path);
      const applicable = issue.errors.filter((errors) => !rejectsType(errors, value));
      if (applicable.length === 0) return [{ path, message: issue.message }];
      const best = applicable.reduce((a, b) => (b.length < a.length ? b : a));
      return best.flatMap((i) => flatten(i, path, raw, knownKeys));
    }
    case 'unrecognized_keys': {
      const container = valueAt(raw, path);
      const known = knownKeys.get(container) ?? [];
      return issue.keys.map((key) => ({
        path: [...path, key],
        atKey: true,
        message: `unknown key '${key}'${didYouMean(key, known) || (known.length > 0 ? ` (expected one of: ${known.join(', ')})` : '')}`,
      }));
    }
    case 'invalid_key':
      return issue.issues.map((i) => ({ path, atKey: true, message: `bad key: ${i.message}` }));
    case 'invalid_element':
      return issue.issues.flatMap((i) => flatten(i, path, raw, knownKeys));
    default: {
      const fallback =
        issue.code === 'custom' &&
        (issue.params as { fallback?: boolean } | undefined)?.fallback === true;
      return [{ path, message: issue.message, fallback }];
    }
  }
}

function valueAt(raw: unknown, path: KeyPath): unknown {
  let v = raw;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

// ---- key path → position -----------------------------------------------------------

/** The offset of the node at `path`, or of the deepest ancestor present (a missing key). */
function locate(doc: Document, path: KeyPath, atKey: boolean): number {
  let node: Node | null | undefined = doc.contents as Node | null;
  let offset = node?.range?.[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return offset;
      const key = pair.key as Node;
      const value = pair.value as Node | null;
      if (last && atKey) return key.range?.[0] ?? offset;
      // An empty value (`key:`) has no node of its own: point at the key.
      node = value;
      offset = value?.range?.[0] ?? key.range?.[0] ?? offset;
      if (
        value &&
        isScalar(value) &&
        value.value === null &&
        value.range &&
        value.range[0] === value.range[1]
      ) {
        offset = key.range?.[0] ?? offset;
      }
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) return offset;
      node = item;
      offset = item.range?.[0] ?? offset;
    } else {
      return offset;
    }
  }
  return offset;
}
