/**
 * The instrument's own stalls and what they cost an expectation. The lab (the core's
 * forwarding thread, the orchestrator's loop) and each agent's loop report when they ran
 * late (`lab_stall`, `agent_lag` events). A stall holds packets in the TUN queues and
 * stamps arrivals late, so it reads as the network's delay and loss: a 2.25 s stop of the
 * orchestrator made a clean run's websocket p99 2.14 s and its voice MOS 2.01. An
 * expectation is `not measured`, with the stalls as its cause, as if an agent had died
 * there, when the stalls longer than it tolerates cover more of its window (the phase,
 * and its messages' deadline after it) than it can absorb (`absorbableShare`, 1 % for
 * most): one 2.25 s stop in a 5 s phase, or a forwarding thread starved into a hundred
 * 20 ms stalls, but not one 14 ms hiccup of an agent's loop in 10 s, which touches a
 * message or two.
 *
 * The tolerance of an expectation (documented in docs/scenario-format.md, "expect"):
 * 10 % of the time that decides it, at least MIN_TOLERANCE_NS:
 * - a latency, connect, TLS or jitter bound: the bound itself;
 * - the MOS of a call (udp-voice, webrtc): its 60 ms jitter buffer, past which a frame is
 *   lost to the listener;
 * - delivery and loss: the workload's deadline, past which a message is lost;
 * - goodput and the counts: 1 % of the scope's length (a stall of 1 % of a phase moves
 *   its rate by about 1 %).
 */
import type { MeasureEvent } from '../record/events.js';
import type { InstrumentStats, LagStats } from '../record/summary.js';
import type { CompiledExpectation, CompiledWorkload } from '../scenario/compiled.js';
import { measuresVoice } from '../scenario/protocols/index.js';
import { holds } from './expect.js';

/** No expectation is stricter than this: below it, a loaded machine's timer noise. */
export const MIN_TOLERANCE_NS = 5e6;

/** A call's jitter buffer: a frame later than this is lost to the listener (voice.ts). */
const JITTER_BUFFER_NS = 60e6;

/** One stall of one part of the instrument, ns since t0. */
export interface StallWindow {
  /** `core`, `orchestrator`, or the agent's role. */
  who: 'core' | 'orchestrator' | 'client' | 'server';
  start: number;
  end: number;
}

/** Episodes closer than this are one stall (a stall seen as two consecutive late ticks). */
const JOIN_NS = 1e6;

/** The stalls the events report, per part, adjacent episodes joined. */
export function stallWindows(events: Iterable<MeasureEvent>): StallWindow[] {
  const raw: StallWindow[] = [];
  for (const e of events) {
    if (e.ev === 'lab_stall') raw.push({ who: e.source, start: e.t, end: e.t + e.dur_ns });
    else if (e.ev === 'agent_lag') raw.push({ who: e.role, start: e.t, end: e.t + e.dur_ns });
  }
  raw.sort((a, b) => a.start - b.start);
  const joined: StallWindow[] = [];
  const last = new Map<StallWindow['who'], StallWindow>();
  for (const w of raw) {
    const before = last.get(w.who);
    if (before !== undefined && w.start <= before.end + JOIN_NS) {
      before.end = Math.max(before.end, w.end);
      continue;
    }
    const copy = { ...w };
    joined.push(copy);
    last.set(w.who, copy);
  }
  return joined;
}

/** How long a stall an expectation tolerates (see the module comment). */
export function toleranceNs(
  e: CompiledExpectation,
  w: CompiledWorkload | undefined,
  scopeNs: number,
): number {
  let basis: number;
  let share = 0.1;
  if (e.kind === 'duration') basis = e.value;
  else if (e.metric === 'mos' && w !== undefined && measuresVoice(w.protocol)) {
    basis = JITTER_BUFFER_NS;
  } else if (e.metric === 'delivery' || e.metric === 'loss' || e.metric === 'mos') {
    basis = w?.deadline_ns ?? scopeNs;
  } else {
    basis = scopeNs;
    share = 0.01;
  }
  return Math.max(MIN_TOLERANCE_NS, share * basis);
}

/**
 * How much of an expectation's window stalls longer than it tolerates may cover before
 * they cost it: a percentile pXX is moved by stalled messages only once they are a good
 * part of the (100 - XX) % above it (half of it), so a p50 shrugs off the 1-3 % a loaded
 * 2-core machine's scheduler takes, where a p99 does not; a maximum takes none; every
 * other metric 1 %.
 */
export function absorbableShare(e: CompiledExpectation): number {
  const q = /^latency\.p(\d+)$/.exec(e.metric);
  if (q !== null) return (1 - Number(q[1]) / 100) / 2;
  if (e.metric === 'latency.max') return 0;
  return 0.01;
}

/**
 * Which way the instrument's stalls move a metric: held packets and late stamps only add
 * delay, loss and reconnects, and only take away delivery, goodput, frames and call
 * quality. Metrics not listed (stall.bytes) may move either way.
 */
const STALLS_PUSH: Readonly<Record<string, 'up' | 'down'>> = {
  delivery: 'down',
  goodput: 'down',
  mos: 'down',
  'video.fps': 'down',
  loss: 'up',
  jitter: 'up',
  reconnects: 'up',
};

function pushOf(e: CompiledExpectation): 'up' | 'down' | undefined {
  return STALLS_PUSH[e.metric] ?? (e.kind === 'duration' ? 'up' : undefined);
}

/**
 * Whether the verdict on `measured` is one the stalls could not have made: it is the same
 * for every value the metric could have had without them. A latency bound that held with
 * the stalls' delay in it holds without; a delivery bound that failed with the stalls'
 * losses taken back would fail too only if nothing was lost to them, so it is not sure. A
 * rate is bounded both ways: stalls covering a share `share` of its window took at most
 * that share of its time, so without them it was at most measured / (1 - share).
 */
export function verdictStallsCannotMove(
  e: CompiledExpectation,
  measured: number | null,
  share: number,
): boolean {
  const push = pushOf(e);
  if (measured === null || push === undefined || e.op === '==') return false;
  const held = holds(measured, e.op, e.value);
  // Without the stalls the value was lower (up) or higher (down) than measured.
  const other =
    push === 'up'
      ? e.kind === 'duration' || e.kind === 'ratio' || e.kind === 'count'
        ? 0
        : undefined
      : e.kind === 'rate' && share < 1
        ? measured / (1 - share)
        : e.kind === 'ratio'
          ? 1
          : Infinity;
  if (other === undefined) return false;
  return holds(other, e.op, e.value) === held;
}

/** The stalls longer than a tolerance within an expectation's window. */
export interface StallsIn {
  /** Their time inside the window, ns. */
  total: number;
  /** The window's length, ns. */
  window: number;
  stalls: StallWindow[];
}

/** The stalls longer than `tolerance` that overlap `windows` (ns since t0), and their time in them. */
export function stallsIn(
  stalls: StallWindow[],
  windows: { start: number; end: number }[],
  tolerance: number,
): StallsIn {
  const hit: StallWindow[] = [];
  let total = 0;
  for (const s of stalls) {
    if (s.end - s.start <= tolerance) continue;
    let inside = 0;
    for (const w of windows)
      inside += Math.max(0, Math.min(s.end, w.end) - Math.max(s.start, w.start));
    if (inside <= 0) continue;
    hit.push(s);
    total += inside;
  }
  const window = windows.reduce((n, w) => n + Math.max(0, w.end - w.start), 0);
  return { total, window, stalls: hit };
}

/**
 * How stalls read in a cause or a warning: "the lab stalled 2.25 s at 4.1 s", "the lab
 * stalled 12 times, 1.40 s in all (the longest 300 ms at 4.1 s)".
 */
export function stallText(hit: StallWindow[]): string {
  const longest = hit.reduce((m, s) => (s.end - s.start > m.end - m.start ? s : m));
  const lab = hit.some((s) => s.who === 'core' || s.who === 'orchestrator');
  const roles = [
    ...new Set(hit.filter((s) => s.who === 'client' || s.who === 'server').map((s) => s.who)),
  ];
  const who = lab
    ? 'the lab stalled'
    : `the ${roles.join(' and ')} agent${roles.length > 1 ? "s'" : "'s"} event loop stalled`;
  const at = (s: StallWindow) => `${duration(s.end - s.start)} at ${(s.start / 1e9).toFixed(1)} s`;
  if (hit.length === 1) return `${who} ${at(longest)}`;
  // One stop seen by the core and the orchestrator alike is one stall in words.
  const distinct = hit.filter(
    (s, i) => !hit.slice(0, i).some((t) => s.start < t.end && t.start < s.end),
  );
  const total = distinct.reduce((n, s) => n + (s.end - s.start), 0);
  if (distinct.length === 1) return `${who} ${at(longest)}`;
  return `${who} ${distinct.length} times, ${duration(total)} in all (the longest ${at(longest)})`;
}

function duration(ns: number): string {
  return ns >= 1e9 ? `${(ns / 1e9).toFixed(2)} s` : `${(ns / 1e6).toFixed(0)} ms`;
}

function lagStats(stalls: StallWindow[]): LagStats {
  const perSecond = new Map<number, { max_ns: number; total_ns: number }>();
  for (const s of stalls) {
    for (let sec = Math.floor(s.start / 1e9); sec * 1e9 < s.end; sec++) {
      const part = Math.min(s.end, (sec + 1) * 1e9) - Math.max(s.start, sec * 1e9);
      const p = perSecond.get(sec) ?? { max_ns: 0, total_ns: 0 };
      p.max_ns = Math.max(p.max_ns, s.end - s.start);
      p.total_ns += part;
      perSecond.set(sec, p);
    }
  }
  const longest = stalls.reduce<StallWindow | undefined>(
    (m, s) => (m === undefined || s.end - s.start > m.end - m.start ? s : m),
    undefined,
  );
  return {
    count: stalls.length,
    total_ns: stalls.reduce((n, s) => n + (s.end - s.start), 0),
    max_ns: longest === undefined ? 0 : longest.end - longest.start,
    longest: longest === undefined ? null : { ...longest },
    per_second: [...perSecond.entries()]
      .sort(([a], [b]) => a - b)
      .map(([sec, p]) => ({ s: sec, ...p })),
  };
}

/** What summary.json says of the instrument's own stalls. */
export function instrumentStats(stalls: StallWindow[]): InstrumentStats {
  const lab = stalls.filter((s) => s.who === 'core' || s.who === 'orchestrator');
  const agents = stalls.filter((s) => s.who === 'client' || s.who === 'server');
  return { lab_stall: lagStats(lab), agent_lag: lagStats(agents) };
}
