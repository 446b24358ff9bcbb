/**
 * Did a workload send what its plan asked, when it asked? Message k of a paced stream is
 * due at its anchor + k x interval (src/workloads/pacer.ts), so the send events alone say
 * how many messages the plan had in a scope and how late each one left. A workload that
 * sent less than 99 % of its plan on time (within LATE_LIMIT_NS) is `agent_limited`: its
 * agent could not keep up (a websocket at `rate: 50mbit, size: 1KB` sent a fifth of its
 * plan and read 10-12 Mbit/s on an unshaped lab), and its goodput and latency say that,
 * not the network's.
 */
import type { SendEvent } from '../record/events.js';
import type { Phase, PacingStats } from '../record/summary.js';
import type { CompiledWorkload } from '../scenario/compiled.js';
import { traitsOf } from '../scenario/protocols/index.js';
import { intervalNs } from '../scenario/budget.js';
import { percentiles } from './histogram.js';

/** Below this share of its plan left on time, a workload is agent-limited. */
export const AGENT_LIMITED_BELOW = 0.99;

/**
 * A message that left more than this after its planned time did not keep the plan. With
 * batching, messages leave up to a timer turn (about a millisecond) late, and a busy
 * machine's scheduler adds tens of milliseconds now and then; an agent that cannot keep
 * up falls behind by more and more: websocket at 40,000 messages a second sent all of
 * them, in bursts up to 0.2 s late, and read a p99 of 155 ms on an unshaped lab.
 */
export const LATE_LIMIT_NS = 100e6;

/**
 * How a direction of a workload is paced, from its protocol's traits: `schedule`, message
 * k due at the workload's start + k x interval (hub.ts `startSending`: the client's up
 * messages, and the down messages the server's hub sends); `stream`, the same from when
 * the stream starts (a call's frames); `none`, not paced by qoslab (objects back to back,
 * a media stack's RTP, down messages a protocol's own agent sends).
 */
export type Pace = 'schedule' | 'stream' | 'none';

export function paceOf(protocol: string, dir: 'up' | 'down'): Pace {
  const t = traitsOf(protocol);
  if (t?.traffic === 'frames') return 'stream';
  if (t?.traffic !== 'messages') return 'none';
  return dir === 'up' || t.down === 'hub' ? 'schedule' : 'none';
}

/** The streams a workload paces: each connection in each direction it sends, and how. */
function streams(w: CompiledWorkload): { dir: 'up' | 'down'; pace: Pace }[] {
  const dirs: ('up' | 'down')[] = w.direction === 'both' ? ['up', 'down'] : [w.direction];
  return dirs
    .map((dir) => ({ dir, pace: paceOf(w.protocol, dir) }))
    .filter((s) => s.pace !== 'none');
}

/** Ticks k >= 0 with anchor + k x interval in [from, to). */
function ticksIn(anchor: number, interval: number, from: number, to: number): number {
  if (to <= from || interval <= 0) return 0;
  const first = Math.max(0, Math.ceil((from - anchor) / interval));
  const end = Math.max(0, Math.ceil((to - anchor) / interval));
  return Math.max(0, end - first);
}

/**
 * Pacing of `w` in `periods` (the phases of one scope; the whole run is one period), over
 * what was observed. `sends` are the workload's sends in the scope; `allSends` all of
 * its sends (a stream's anchor may lie in an earlier scope). Null for a workload qoslab
 * does not pace.
 */
export function pacingStats(
  w: CompiledWorkload,
  sends: SendEvent[],
  allSends: SendEvent[],
  periods: Phase[],
  observedEnd: number,
): PacingStats | null {
  const paced = streams(w);
  if (paced.length === 0) return null;
  const interval = intervalNs(w);
  const stop = Math.min(w.stop_ns, observedEnd);
  const anchors = new Map<string, number>();
  for (const { dir, pace } of paced) {
    if (pace === 'schedule') {
      for (let c = 0; c < w.connections; c++) anchors.set(`${dir}/${c}`, w.start_ns);
      continue;
    }
    // A stream's pacer starts when the stream does: no message leaves before it is due, so
    // the earliest of `t - seq x interval` is the latest the start can have been. A stream
    // that never sent plans nothing.
    for (const e of allSends) {
      if (e.dir !== dir) continue;
      const key = `${e.dir}/${e.c}`;
      const start = e.t - Math.round(e.seq * interval);
      if (!(anchors.get(key)! <= start)) anchors.set(key, start);
    }
  }
  let planned = 0;
  for (const anchor of anchors.values()) {
    for (const p of periods) planned += ticksIn(anchor, interval, p.start, Math.min(p.end, stop));
  }
  const late: number[] = [];
  let onTime = 0;
  let sent = 0;
  for (const e of sends) {
    const anchor = anchors.get(`${e.dir}/${e.c}`);
    if (anchor === undefined) continue;
    sent++;
    const by = Math.max(0, e.t - (anchor + Math.round(e.seq * interval)));
    late.push(by);
    if (by <= LATE_LIMIT_NS) onTime++;
  }
  const l = percentiles(late);
  // A message due just before a boundary can leave just after it: one per stream and
  // period edge is not the agent's fault.
  const slack = anchors.size * periods.length;
  return {
    planned,
    sent,
    on_time: onTime,
    agent_limited: onTime < AGENT_LIMITED_BELOW * planned - slack,
    late_p99_ns: l.p99,
    late_max_ns: l.max,
  };
}
