/**
 * Text → a checked Scenario, or every problem located as file:line:col. YAML 1.2 and
 * JSON both go through the `yaml` parser (JSON is YAML 1.2), so both get positions.
 */
import { open, stat } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { $ZodIssue, $ZodRawIssue } from 'zod/v4/core';
import { ScenarioError, type KeyPath, type Problem, type UnlocatedProblem } from './errors.js';
import { expandApps } from './apps/index.js';
import { checkProvenance } from './provenance.js';
import { checkReferences } from './refs.js';
import { ScenarioSchema, type Scenario } from './schema.js';
import { didYouMean } from './suggest.js';
import { describeFound } from './units.js';

/** Locates problems found after validation (files it names, budgets) in the same file. */
export type Locate = (problems: UnlocatedProblem[]) => Problem[];

export type Validation =
  { ok: true; scenario: Scenario; locate: Locate } | { ok: false; problems: Problem[] };

/**
 * Limits on the file itself (docs/scenario-format.md "Limits"): the largest library
 * scenario is a few KB; a megabyte is far beyond any real one and parses in well under a
 * second. Aliases may be used (anchors for shared settings) but not expand without end.
 */
export const MAX_SCENARIO_BYTES = 1024 * 1024;
const MAX_ALIAS_COUNT = 100;
const MAX_SYNTAX_PROBLEMS = 10;

/**
 * A scenario file's text: a regular file (not a directory, device or FIFO) of at most
 * MAX_SCENARIO_BYTES. Checked before it is opened (opening a FIFO would wait for a
 * writer), and read with a bound (a file may grow in between).
 */
export async function readScenarioText(path: string, display = path): Promise<string> {
  let handle;
  try {
    const first = await stat(path);
    if (first.isDirectory()) throw new UsageError(`scenario ${display} is a directory, not a file`);
    if (!first.isFile()) throw new UsageError(`scenario ${display} is not a regular file`);
    handle = await open(path, 'r');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read scenario ${display}: ${ioReason(e)}`);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw new UsageError(`scenario ${display} is a directory, not a file`);
    if (!st.isFile()) throw new UsageError(`scenario ${display} is not a regular file`);
    if (st.size > MAX_SCENARIO_BYTES) {
      throw new UsageError(
        `scenario ${display} is ${st.size} bytes; scenario files may be at most ${MAX_SCENARIO_BYTES} bytes (1 MiB)`,
      );
    }
    const buffer = Buffer.alloc(MAX_SCENARIO_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_SCENARIO_BYTES) {
      throw new UsageError(
        `scenario ${display} grew beyond ${MAX_SCENARIO_BYTES} bytes while read`,
      );
    }
    return buffer.subarray(0, bytesRead).toString('utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read scenario ${display}: ${ioReason(e)}`);
  } finally {
    await handle.close();
  }
}

function ioReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EISDIR: 'it is a directory',
    ELOOP: 'too many symbolic links (a link loop?)',
    ENAMETOOLONG: 'the path is too long',
    ENOTDIR: 'a part of the path is not a directory',
  };
  return (code !== undefined ? reasons[code] : undefined) ?? (e as Error).message;
}

/** Problems a document can have before the schema sees it: alias bombs, absurd nesting. */
function toData(doc: Document, file: string): { raw: unknown } | { problem: Problem } {
  try {
    return { raw: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (e) {
    const message = (e as Error).message;
    const why = /alias/i.test(message)
      ? `YAML aliases expand too much (at most ${MAX_ALIAS_COUNT} expansions of an anchor); write the values out`
      : e instanceof RangeError
        ? 'the document is nested too deeply'
        : `cannot read the document: ${message}`;
    return { problem: { file, line: 1, col: 1, path: '', message: why } };
  }
}

export function validateScenarioText(text: string, file: string): Validation {
  try {
    return validateParsed(text, file);
  } catch (e) {
    // The parser and the schema recurse; a pathologically deep document exhausts the stack.
    if (!(e instanceof RangeError)) throw e;
    return {
      ok: false,
      problems: [{ file, line: 1, col: 1, path: '', message: 'the document is nested too deeply' }],
    };
  }
}

function validateParsed(text: string, file: string): Validation {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    version: '1.2',
    uniqueKeys: true,
    prettyErrors: false,
  });
  const at = (offset: number) => lineCounter.linePos(offset);
  if (doc.errors.length > 0) {
    // A broken file can yield thousands of follow-on errors; the first few locate it.
    const problems = doc.errors.slice(0, MAX_SYNTAX_PROBLEMS).map((e) => {
      const { line, col } = at(e.pos[0]);
      return { file, line, col, path: '', message: yamlMessage(e.message) };
    });
    return { ok: false, problems: sortProblems(problems) };
  }
  const data = toData(doc, file);
  if ('problem' in data) return { ok: false, problems: [data.problem] };
  // `app:` workloads start from their profiles: fill those in, then check everything.
  const raw: unknown = expandApps(data.raw);
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

  const locateAll: Locate = (list) => {
    const seen = new Set<string>();
    const out: Problem[] = [];
    for (const u of list) {
      const { line, col } = at(locate(doc, u.path, u.atKey === true));
      const p = { file, line, col, path: formatPath(u.path), message: u.message };
      const key = `${p.line}:${p.col}:${p.path}:${p.message}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(p);
      }
    }
    return sortProblems(out);
  };
  const problems = locateAll(shown);
  if (problems.length > 0 || !result.success) return { ok: false, problems };
  return { ok: true, scenario: result.data, locate: locateAll };
}

/** Parse and check, or throw a ScenarioError holding every problem. */
export function parseScenarioText(text: string, file: string): Scenario {
  const v = validateScenarioText(text, file);
  if (!v.ok) throw new ScenarioError(file, v.problems);
  return v.scenario;
}

export async function loadScenarioFile(path: string, display = path): Promise<Scenario> {
  return parseScenarioText(await readScenarioText(path, display), display);
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
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  return /Maximum call stack/.test(first) ? 'the document is nested too deeply' : first;
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
