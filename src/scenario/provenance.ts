/**
 * Where each number of a scenario comes from. A number is *cited* when a path in some
 * `sources[].parameters` map covers it (the map's value is the quote that gives it),
 * *assumed* when a path in `assumed` covers it (the value says why it was chosen), and
 * *unmarked* otherwise. A path covers every number below it; the longest covering path
 * decides. Paths name values as written: `policies.p.actions.0.police.rate`, `expect.2`.
 *
 * The numbers are the ones a source could give: the link, the classifier's ports and
 * limits, every action parameter and state timeout, and every `expect` line. Workloads
 * and the timeline are how the lab exercises a scenario, not claims about a censor.
 */
import type { KeyPath, UnlocatedProblem } from './errors.js';

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => v !== null && typeof v === 'object' && !Array.isArray(v);
const dict = (v: unknown): Dict => (isDict(v) ? v : {});

export type Provenance = 'cited' | 'assumed' | 'unmarked';

export interface NumberMark {
  /** Dotted path, list items by index. */
  path: string;
  /** The value as written. */
  value: string;
  status: Provenance;
  /** The marking path that decided (a prefix of `path`, or `path` itself). */
  markedBy?: string;
  /** cited: the source's `cite` and the quote. assumed: the reason. */
  cite?: string;
  url?: string;
  text?: string;
}

export const pathText = (path: KeyPath): string => path.join('.');

/** A written number: a YAML number or a unit string such as 128kbit, 30%, 10m. */
const isNumberLike = (v: unknown): boolean =>
  typeof v === 'number' || (typeof v === 'string' && /^[\d.]/.test(v.trim()));

function leaves(v: unknown, path: KeyPath, out: [KeyPath, unknown][]): void {
  if (Array.isArray(v)) v.forEach((x, i) => leaves(x, [...path, i], out));
  else if (isDict(v)) for (const [k, x] of Object.entries(v)) leaves(x, [...path, k], out);
  else if (isNumberLike(v)) out.push([path, v]);
}

const CLASS_NUMBER_KEYS = ['tcp-ports', 'udp-ports', 'quic', 'inspect'];

/** Every number a source could give, in file order. */
export function numbersOf(raw: unknown): { path: KeyPath; value: string }[] {
  const top = dict(raw);
  const out: [KeyPath, unknown][] = [];
  leaves(top.network, ['network'], out);
  for (const [name, spec] of Object.entries(dict(top.classes))) {
    const matchers: [unknown, KeyPath][] = Array.isArray(spec)
      ? spec.map((m, i) => [m, ['classes', name, i]])
      : [[spec, ['classes', name]]];
    for (const [m, path] of matchers) {
      for (const key of CLASS_NUMBER_KEYS) {
        const v = dict(m)[key];
        // `quic: true` and `quic: { version: 1 }` name a protocol, not a measured number.
        if (key === 'quic') leaves(dict(v)['min-size'], [...path, key, 'min-size'], out);
        else leaves(v, [...path, key], out);
      }
    }
  }
  for (const [name, spec] of Object.entries(dict(top.policies))) {
    leaves(dict(spec).state, ['policies', name, 'state'], out);
    leaves(dict(spec).actions, ['policies', name, 'actions'], out);
  }
  const expect = top.expect;
  if (Array.isArray(expect)) {
    expect.forEach((line, i) => {
      if (typeof line === 'string') out.push([['expect', i], line]);
    });
  }
  return out.map(([path, value]) => ({ path, value: String(value) }));
}

interface Marking {
  path: KeyPath;
  status: 'cited' | 'assumed';
  text: string;
  cite?: string;
  url?: string;
  /** Where the marking itself is written, for located errors. */
  at: KeyPath;
}

const splitPath = (p: string): KeyPath =>
  p.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));

function markingsOf(raw: unknown): Marking[] {
  const top = dict(raw);
  const marks: Marking[] = [];
  const sources = Array.isArray(top.sources) ? top.sources : [];
  sources.forEach((src, i) => {
    const s = dict(src);
    for (const [p, quote] of Object.entries(dict(s.parameters))) {
      marks.push({
        path: splitPath(p),
        status: 'cited',
        text: String(quote),
        cite: typeof s.cite === 'string' ? s.cite : undefined,
        url: typeof s.url === 'string' ? s.url : undefined,
        at: ['sources', i, 'parameters', p],
      });
    }
  });
  for (const [p, why] of Object.entries(dict(top.assumed))) {
    marks.push({ path: splitPath(p), status: 'assumed', text: String(why), at: ['assumed', p] });
  }
  return marks;
}

const covers = (prefix: KeyPath, path: KeyPath): boolean =>
  prefix.length <= path.length && prefix.every((seg, i) => String(path[i]) === String(seg));

/** Each number with how it is marked; the longest covering path decides, a citation wins a tie. */
export function provenanceOf(raw: unknown): NumberMark[] {
  const marks = markingsOf(raw);
  return numbersOf(raw).map(({ path, value }) => {
    let best: Marking | undefined;
    for (const m of marks) {
      if (!covers(m.path, path)) continue;
      const longer = best === undefined || m.path.length > best.path.length;
      const tieWin =
        best !== undefined && m.path.length === best.path.length && m.status === 'cited';
      if (longer || tieWin) best = m;
    }
    if (best === undefined) return { path: pathText(path), value, status: 'unmarked' };
    return {
      path: pathText(path),
      value,
      status: best.status,
      markedBy: pathText(best.path),
      text: best.text,
      ...(best.cite === undefined ? {} : { cite: best.cite }),
      ...(best.url === undefined ? {} : { url: best.url }),
    };
  });
}

export interface ProvenanceCounts {
  cited: number;
  assumed: number;
  unmarked: number;
}

export function countProvenance(marks: NumberMark[]): ProvenanceCounts {
  const c = { cited: 0, assumed: 0, unmarked: 0 };
  for (const m of marks) c[m.status]++;
  return c;
}

function exists(raw: unknown, path: KeyPath): boolean {
  let v: unknown = raw;
  for (const seg of path) {
    if (Array.isArray(v) && typeof seg === 'number') v = v[seg];
    else if (isDict(v) && Object.hasOwn(v, String(seg))) v = v[String(seg)];
    else return false;
  }
  return v !== undefined;
}

/** Every marking must name a value of this file: a typo would silently mark nothing. */
export function checkProvenance(raw: unknown): UnlocatedProblem[] {
  return markingsOf(raw)
    .filter((m) => !exists(raw, m.path))
    .map((m) => ({
      path: m.at,
      atKey: true,
      message: `'${pathText(m.path)}' names no value in this scenario (paths look like policies.<name>.actions.0.police.rate or expect.1)`,
    }));
}
