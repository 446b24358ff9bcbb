/**
 * The core's counters (datapath.ndjson) turned into what a reader asks: who dropped how
 * many packets, why, in which phase. The file holds cumulative snapshots about once a
 * second, so a phase's numbers are differences between the snapshots nearest its ends.
 *
 * The forwarder's counters (`up`, `down`) are always there; the shaping core's (`shaping`:
 * per class, policy, action and link) only in builds that shape. Anything missing or
 * of an unexpected shape is left out rather than failing the report.
 */
import { phaseNames } from '../metrics/phases.js';
import type { Phase } from '../record/summary.js';
import type { DatapathSample } from './load.js';
import type { ChartSpec } from './charts/spec.js';

export interface Stage {
  packets: number;
  bytes: number;
  drops: Record<string, number>;
}

export type StageKind = 'forwarder' | 'policy' | 'action' | 'link';

export interface StageRow extends Stage {
  kind: StageKind;
  name: string;
  /** null: the whole run. */
  phase: string | null;
}

export interface ClassRow {
  name: string;
  flows: number;
  packets: number;
  bytes: number;
}

export interface DatapathView {
  samples: number;
  /** Whether the snapshots carry the shaping core's counters. */
  shaping: boolean;
  stages: StageRow[];
  classes: ClassRow[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function stageOf(v: unknown): Stage | null {
  if (!isObj(v)) return null;
  const drops: Record<string, number> = {};
  if (isObj(v.drops)) for (const [k, n] of Object.entries(v.drops)) drops[k] = num(n);
  return { packets: num(v.packets), bytes: num(v.bytes), drops };
}

/** Every stage of one snapshot, keyed `kind\0name`. */
function stagesOf(s: DatapathSample | undefined): Map<string, Stage> {
  const out = new Map<string, Stage>();
  if (s === undefined) return out;
  const put = (kind: StageKind, name: string, v: unknown) => {
    const st = stageOf(v);
    if (st !== null) out.set(`${kind}\u0000${name}`, st);
  };
  put('forwarder', 'up', s.up);
  put('forwarder', 'down', s.down);
  const sh = s.shaping;
  if (isObj(sh)) {
    if (isObj(sh.policies)) for (const [k, v] of Object.entries(sh.policies)) put('policy', k, v);
    if (Array.isArray(sh.actions)) {
      for (const a of sh.actions) {
        if (!isObj(a)) continue;
        put('action', `${String(a.policy)} #${num(a.index) + 1} ${String(a.type)}`, a);
      }
    }
    if (isObj(sh.links)) for (const [k, v] of Object.entries(sh.links)) put('link', k, v);
  }
  return out;
}

function minus(a: Stage, b: Stage | undefined): Stage {
  const drops: Record<string, number> = {};
  for (const [k, n] of Object.entries(a.drops)) drops[k] = n - (b?.drops[k] ?? 0);
  return { packets: a.packets - (b?.packets ?? 0), bytes: a.bytes - (b?.bytes ?? 0), drops };
}

function plus(a: Stage, b: Stage): Stage {
  const drops = { ...a.drops };
  for (const [k, n] of Object.entries(b.drops)) drops[k] = (drops[k] ?? 0) + n;
  return { packets: a.packets + b.packets, bytes: a.bytes + b.bytes, drops };
}

/**
 * The snapshot nearest to `t`; before the first one the counters were all zero (at t = 0),
 * so a boundary nearer 0 than any snapshot gets undefined (all zero).
 */
function snapshotNear(samples: DatapathSample[], t: number): DatapathSample | undefined {
  let found: DatapathSample | undefined;
  let best = Math.abs(t);
  for (const s of samples) {
    if (Math.abs(s.t - t) < best) {
      best = Math.abs(s.t - t);
      found = s;
    }
  }
  return found;
}

export function datapathView(samples: DatapathSample[], allPhases: Phase[]): DatapathView {
  const sorted = [...samples].sort((a, b) => a.t - b.t);
  const last = sorted[sorted.length - 1];
  // A phase that began after the last snapshot (a run killed or interrupted before it) has
  // no counters: differences of that snapshot with itself read 0 packets and 0 drops.
  const phases = allPhases.filter((p) => last !== undefined && p.start < last.t);
  const total = stagesOf(last);
  const perPhase = new Map<string, Map<string, Stage>>();
  phases.forEach((p, i) => {
    // The last phase also gets what was counted while the run drained.
    const end = i === phases.length - 1 ? last : snapshotNear(sorted, p.end);
    const from = stagesOf(snapshotNear(sorted, p.start));
    const acc = perPhase.get(p.name) ?? new Map<string, Stage>();
    for (const [k, st] of stagesOf(end)) {
      const d = minus(st, from.get(k));
      const prev = acc.get(k);
      acc.set(k, prev ? plus(prev, d) : d);
    }
    perPhase.set(p.name, acc);
  });
  const stages: StageRow[] = [];
  for (const [key, st] of total) {
    const [kind, name] = key.split('\u0000') as [StageKind, string];
    for (const phase of phaseNames(phases)) {
      const d = perPhase.get(phase)?.get(key);
      if (d) stages.push({ kind, name, phase, ...d });
    }
    stages.push({ kind, name, phase: null, ...st });
  }
  const classes: ClassRow[] = [];
  const sh = last?.shaping;
  if (isObj(sh) && isObj(sh.classes)) {
    for (const [name, c] of Object.entries(sh.classes)) {
      if (!isObj(c)) continue;
      classes.push({ name, flows: num(c.flows), packets: num(c.packets), bytes: num(c.bytes) });
    }
  }
  return { samples: sorted.length, shaping: isObj(sh), stages, classes };
}

/** Forwarded bit rate per direction between successive snapshots; null with < 2 snapshots. */
export function datapathRate(samples: DatapathSample[], durationNs: number): ChartSpec | null {
  const sorted = [...samples].sort((a, b) => a.t - b.t);
  if (sorted.length < 2) return null;
  const x: number[] = [];
  const up: number[] = [];
  const down: number[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    const dt = (b.t - a.t) / 1e9;
    if (dt <= 0) continue;
    const rate = (dir: 'up' | 'down') =>
      (((stageOf(b[dir])?.bytes ?? 0) - (stageOf(a[dir])?.bytes ?? 0)) * 8) / dt / 1e6;
    x.push((a.t + b.t) / 2e9);
    up.push(rate('up'));
    down.push(rate('down'));
  }
  return {
    id: 'datapath-rate',
    title: 'Datapath: IP bytes through the proxy',
    x,
    xLabel: 'time (s)',
    xTime: true,
    xLog: false,
    xRange: [0, Math.max(durationNs, sorted[sorted.length - 1]!.t) / 1e9],
    yLabel: 'Mbit/s',
    yLog: false,
    yRange: null,
    series: [
      { label: 'up (client→server)', values: up, style: 'line' },
      { label: 'down (server→client)', values: down, style: 'line' },
    ],
  };
}
