/**
 * getStats() sampling for webrtc calls: every SAMPLE_MS the agent reads a page's
 * cumulative counters (./webrtc-page.ts) and records what changed since the previous
 * sample as `rtc` events, so the summary can split a call by phase like any message
 * stream. Each side records what it receives (`recv`, its inbound-rtp) and what it sends
 * (`send`, its outbound-rtp and the RTT from the peer's receiver reports).
 */
import type { Page } from 'playwright-core';
import type { Dir, RtcEvent } from '../record/events.js';
import { now } from './clock.js';
import { snapshot, ZERO_KIND, type Snapshot } from './webrtc-page.js';
import type { AgentContext } from './types.js';

/**
 * Sampling interval. An interval counts in the phase in force at its middle, so the agent
 * also samples at each phase's start: no interval straddles a boundary by more than the
 * time the run took to apply it (a 1 s interval did: a cut video read 3 frames/s).
 */
export const SAMPLE_MS = 1000;

/** The events for one interval: per media kind, what this side sent and what it received. */
export function rtcDeltas(
  base: { w: string; c: number; from: number; t: number },
  sends: Dir,
  prev: Snapshot | undefined,
  cur: Snapshot,
): RtcEvent[] {
  const receives: Dir = sends === 'up' ? 'down' : 'up';
  const events: RtcEvent[] = [];
  for (const [kind, k] of Object.entries(cur.kinds)) {
    const p = prev?.kinds[kind] ?? ZERO_KIND;
    if (k.packetsSent > 0) {
      events.push({
        ev: 'rtc',
        ...base,
        dir: sends,
        side: 'send',
        kind,
        packets_sent: k.packetsSent - p.packetsSent,
        target_bitrate_bps: k.targetBitrate,
        rtt_s: k.rtt,
      });
    }
    if (k.inbound) {
      events.push({
        ev: 'rtc',
        ...base,
        dir: receives,
        side: 'recv',
        kind,
        packets_received: k.packetsReceived - p.packetsReceived,
        packets_lost: k.packetsLost - p.packetsLost,
        packets_discarded: k.packetsDiscarded - p.packetsDiscarded,
        bytes_received: k.bytesReceived - p.bytesReceived,
        jitter_s: k.jitter,
        total_samples: k.totalSamplesReceived - p.totalSamplesReceived,
        concealed_samples: k.concealedSamples - p.concealedSamples,
        concealment_events: k.concealmentEvents - p.concealmentEvents,
        jitter_buffer_delay_s: k.jitterBufferDelay - p.jitterBufferDelay,
        jitter_buffer_emitted: k.jitterBufferEmittedCount - p.jitterBufferEmittedCount,
        ...(kind === 'video'
          ? {
              frames_decoded: k.framesDecoded - p.framesDecoded,
              frames_dropped: k.framesDropped - p.framesDropped,
              freeze_count: k.freezeCount - p.freezeCount,
              freeze_s: k.totalFreezesDuration - p.totalFreezesDuration,
            }
          : {}),
      });
    }
  }
  return events;
}

/**
 * Samples one call's page every SAMPLE_MS from `startAbs` until stopped; `stop()` takes a
 * last sample first (while the page still answers) so the final interval counts too.
 * Resolves `state` with each sample's connection state for the caller to watch.
 */
export function sampleCall(o: {
  ctx: AgentContext;
  page: Page;
  workload: string;
  c: number;
  sends: Dir;
  startAbs: bigint;
  onState?: (state: string) => void;
  /** Each sample's cumulative counters (after onState). */
  onSnapshot?: (cur: Snapshot) => void;
}): { stop(): Promise<void> } {
  let prev: Snapshot | undefined;
  let from = o.startAbs;
  let busy: Promise<void> = Promise.resolve();
  const sample = () =>
    (busy = busy.then(async () => {
      const cur = await o.page.evaluate(snapshot, ZERO_KIND).catch(() => undefined);
      if (cur === undefined) return;
      const t = now();
      const base = {
        w: o.workload,
        c: o.c,
        from: Number(from - o.ctx.t0),
        t: Number(t - o.ctx.t0),
      };
      for (const e of rtcDeltas(base, o.sends, prev, cur)) o.ctx.emit(e);
      prev = cur;
      from = t;
      o.onState?.(cur.state);
      o.onSnapshot?.(cur);
    }));
  const timer = setInterval(() => void sample(), SAMPLE_MS);
  const sinceStart = Number(now() - o.ctx.t0);
  // At each planned switch: the run applies it about a millisecond later, so the new
  // phase's first interval holds that millisecond of the old policy (a sample taken after
  // the switch instead put the burst that follows a restored path into the cut phase).
  const atPhases = (o.ctx.phaseStartsNs ?? [])
    .filter((at) => at > sinceStart)
    .map((at) => setTimeout(() => void sample(), (at - sinceStart) / 1e6));
  let stopped: Promise<void> | undefined;
  return {
    stop: () =>
      (stopped ??= (async () => {
        clearInterval(timer);
        for (const t of atPhases) clearTimeout(t);
        await sample();
      })()),
  };
}
