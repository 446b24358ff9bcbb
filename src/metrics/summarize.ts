/**
 * Metrics are pure functions of the event stream: the same events give the same numbers,
 * whether live or re-read from events.ndjson.
 */
import type {
  ConnectEvent,
  DetectEvent,
  Dir,
  FailEvent,
  GiveupEvent,
  MeasureEvent,
  RecvEvent,
  RetryEvent,
  RtcEvent,
  SendEvent,
} from '../record/events.js';
import type { DirectionStats, Phase, ScopeStats, WorkloadStats } from '../record/summary.js';
import type { CompiledWorkload } from '../scenario/compiled.js';
import type { Measures } from '../scenario/protocols/protocol.js';
import { traitsOf } from '../scenario/protocols/index.js';
import { LatencyHistogram, medianBytes, percentiles } from './histogram.js';
import { pacingStats } from './pacing.js';
import { phaseAt, phaseNames, phaseTime } from './phases.js';
import { sessionStats } from './session.js';
import { voiceStats } from './voice.js';
import { rtcDirectionStats } from './webrtc.js';

export interface SummarizeInput {
  events: Iterable<MeasureEvent>;
  workloads: CompiledWorkload[];
  phases: Phase[];
  /** ns since t0 when the agents stopped observing: later deadlines are not judged. */
  observedEnd: number;
}

interface Bucket {
  sends: SendEvent[];
  recvs: RecvEvent[];
  connects: ConnectEvent[];
  fails: FailEvent[];
  rtcs: RtcEvent[];
  detects: DetectEvent[];
  retries: RetryEvent[];
  giveups: GiveupEvent[];
}

type Counted = SendEvent | RecvEvent | ConnectEvent | FailEvent | RtcEvent;
type Noted = DetectEvent | RetryEvent | GiveupEvent;

const key = (w: string, dir: Dir, c: number, seq: number) =>
  `${w}\u0000${dir}\u0000${c}\u0000${seq}`;

/**
 * What makes an event itself. An agent never writes a send, connect, failure or stats
 * interval twice: a second copy is a damaged or concatenated events.ndjson, and counting
 * it doubled sends, goodput and connections. A message that arrived twice (a duplicated
 * datagram) counts its first arrival, as it always did.
 */
function identity(e: Counted | Noted): string {
  switch (e.ev) {
    case 'retry':
    case 'giveup':
      return `${e.ev}\u0000${key(e.w, e.dir, e.c, e.seq)}\u0000${e.t}`;
    case 'detect':
      return `detect\u0000${e.w}\u0000${e.c}\u0000${e.t}`;
    case 'send':
    case 'recv':
      return `${e.ev}\u0000${key(e.w, e.dir, e.c, e.seq)}`;
    case 'rtc':
      return `rtc\u0000${e.w}\u0000${e.c}\u0000${e.dir}\u0000${e.side}\u0000${e.kind}\u0000${e.t}`;
    case 'fail':
      return `fail\u0000${e.w}\u0000${e.c}\u0000${e.t}\u0000${e.stage}\u0000${e.error}`;
    case 'connect':
      return `connect\u0000${e.w}\u0000${e.c}\u0000${e.t}`;
  }
}

export function summarize(input: SummarizeInput): WorkloadStats[] {
  const buckets = new Map<string, Bucket>();
  for (const w of input.workloads)
    buckets.set(w.name, {
      sends: [],
      recvs: [],
      connects: [],
      fails: [],
      rtcs: [],
      detects: [],
      retries: [],
      giveups: [],
    });
  const seen = new Set<string>();
  for (const e of input.events) {
    if (
      e.ev === 'phase' ||
      e.ev === 'agent' ||
      e.ev === 'dns' ||
      e.ev === 'program' ||
      e.ev === 'lab_stall' ||
      e.ev === 'agent_lag'
    )
      continue;
    const id = identity(e);
    if (seen.has(id)) continue;
    seen.add(id);
    // Messages sent after observation ended (an agent died, the run stopped) are outside
    // the measured window: they would count a dead agent's silence as the network's.
    if ((e.ev === 'recv' ? e.sent : e.t) > input.observedEnd) continue;
    const b = buckets.get(e.w);
    if (b === undefined) continue;
    if (e.ev === 'send') b.sends.push(e);
    else if (e.ev === 'recv') b.recvs.push(e);
    else if (e.ev === 'connect') b.connects.push(e);
    else if (e.ev === 'rtc') b.rtcs.push(e);
    else if (e.ev === 'detect') b.detects.push(e);
    else if (e.ev === 'retry') b.retries.push(e);
    else if (e.ev === 'giveup') b.giveups.push(e);
    else b.fails.push(e);
  }
  // A phase the run never watched (interrupted, an agent dead, before it began) has no
  // numbers: a scope of it would read 0 sent and 0 failures for a silence nobody observed.
  const watched = input.phases.filter((p) => p.start < input.observedEnd);
  const scopes: (string | null)[] = [...phaseNames(watched), null];
  return input.workloads.map((w) => {
    const b = buckets.get(w.name)!;
    return {
      name: w.name,
      protocol: w.protocol,
      ...(w.app === null || w.app === undefined ? {} : { app: w.app, use: w.use ?? 'text' }),
      scopes: scopes.map((phase) => scopeStats(w, b, phase, input)),
    };
  });
}

function scopeStats(
  w: CompiledWorkload,
  b: Bucket,
  phase: string | null,
  input: SummarizeInput,
): ScopeStats {
  const inScope = (t: number) => phase === null || phaseAt(input.phases, t) === phase;
  const sends = b.sends.filter((e) => inScope(e.t));
  // A message belongs to the phase in force when it was sent, as its send event says: the
  // instant it carries can be a little later (an http3 page stamps it after the agent
  // asked), and across a boundary that would count it lost in one phase, unsent in the next.
  const sent = new Set(sends.map((e) => key(e.w, e.dir, e.c, e.seq)));
  const recvs = b.recvs.filter((e) => sent.has(key(e.w, e.dir, e.c, e.seq)));
  const connects = b.connects.filter((e) => inScope(e.t));
  // Rates divide by the time actually observed, not the planned length.
  const activeNs = phaseTime(
    input.phases,
    phase,
    w.start_ns,
    Math.min(w.stop_ns, input.observedEnd),
  );
  const dirs: Dir[] = ['up', 'down'];
  // compiled.json of a run from before sessions has neither key.
  const outbox = w.outbox ?? null;
  const transports = w.transports ?? [];
  const measures = measuresOf(w);
  // A getStats interval belongs to the phase in force at its middle.
  const rtcs = b.rtcs.filter((e) => inScope((e.from + e.t) / 2));
  const per = dirs.map((dir) =>
    measures === 'webrtc-stats'
      ? rtcDirectionStats(dir, rtcs, activeNs)
      : directionStats(
          w,
          dir,
          sends.filter((e) => e.dir === dir),
          recvs.filter((e) => e.dir === dir),
          input.observedEnd,
          activeNs,
        ),
  );
  const both =
    measures === 'webrtc-stats'
      ? poolVoice(per, rtcDirectionStats('both', rtcs, activeNs))
      : pool(per, w, sends, recvs, activeNs, input.observedEnd);
  // Transfers: the transfer rate replaces goodput over the active time in every direction.
  if (measures === 'transfers') {
    const periods = phase === null ? null : periodsOf(input.phases, phase);
    for (const d of [...per, both]) {
      const recvs = d.dir === 'both' ? b.recvs : b.recvs.filter((e) => e.dir === d.dir);
      d.goodput_bps = transferRate(w, recvs, periods, input.phases.at(-1)?.start ?? 0);
    }
  }
  if (outbox !== null) {
    // Of the judged messages, those the app gave up on: failed for the user.
    const given = new Set(b.giveups.map((g) => key(g.w, g.dir, g.c, g.seq)));
    const judged = (s: SendEvent) => s.t + w.deadline_ns <= input.observedEnd;
    for (const d of [...per, both]) {
      d.gave_up = sends.filter(
        (s) =>
          (d.dir === 'both' || s.dir === d.dir) &&
          judged(s) &&
          given.has(key(s.w, s.dir, s.c, s.seq)),
      ).length;
    }
  }
  const directions = [...per.filter((d) => d.sent > 0 || d.counted > 0), both];
  const tlsTimes = connects.flatMap((e) => (e.tls_ns === null ? [] : [e.tls_ns]));
  const c = percentiles(connects.map((e) => e.connect_ns));
  const t = percentiles(tlsTimes);
  const lookups = connects.flatMap((e) => (e.dns_ns == null ? [] : [e.dns_ns]));
  const d = percentiles(lookups);
  return {
    phase,
    directions,
    connect: { count: connects.length, p50: c.p50, p99: c.p99 },
    tls: { count: tlsTimes.length, p50: t.p50, p99: t.p99 },
    ...(lookups.length > 0 ? { dns: { count: lookups.length, p50: d.p50, p99: d.p99 } } : {}),
    failures: b.fails.filter((e) => inScope(e.t)).length,
    reconnects: connects.filter((e) => e.reconnect).length,
    ...protocolCounts(connects),
    stalled: stalls(b.fails.filter((e) => inScope(e.t))),
    pacing: pacingStats(
      w,
      sends,
      b.sends,
      phase === null ? [{ name: '', start: 0, end: Infinity }] : periodsOf(input.phases, phase),
      input.observedEnd,
    ),
    // Workloads that keep a connection (or place calls): what their user lived with.
    ...(transports.length === 0
      ? {}
      : {
          session: sessionStats(
            w,
            b,
            inScope,
            phase === null ? null : periodsOf(input.phases, phase),
            input.observedEnd,
          ),
        }),
  };
}

/** What a workload's protocol measures; a protocol no row has (an old results folder) as messages. */
function measuresOf(w: CompiledWorkload): Measures {
  return traitsOf(w.protocol)?.measures ?? 'messages';
}

/** `{ protocols }` when the workload's connections say which protocol they used (http3). */
function protocolCounts(connects: ConnectEvent[]): { protocols?: Record<string, number> } {
  const counts: Record<string, number> = {};
  for (const e of connects) {
    if (e.proto === undefined) continue;
    const key = e.quic_version === undefined ? e.proto : `${e.proto} ${e.quic_version}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return Object.keys(counts).length === 0 ? {} : { protocols: counts };
}

/** Failed transfers that had received part of their object (bulk downloads). */
function stalls(fails: FailEvent[]): ScopeStats['stalled'] {
  const bytes = fails.flatMap((e) => (e.bytes === undefined ? [] : [e.bytes]));
  return {
    count: bytes.length,
    p50_bytes: medianBytes(bytes),
    max_bytes: bytes.length === 0 ? null : bytes.reduce((a, b) => Math.max(a, b)),
  };
}

function periodsOf(phases: Phase[], name: string): Phase[] {
  return phases.filter((p) => p.name === name);
}

/** Matches sends and receives of one direction and judges each against the deadline. */
function directionStats(
  w: CompiledWorkload,
  dir: Dir | 'both',
  sends: SendEvent[],
  recvs: RecvEvent[],
  observedEnd: number,
  activeNs: number,
): DirectionStats {
  const arrived = new Map<string, RecvEvent>();
  for (const r of recvs) {
    const k = key(r.w, r.dir, r.c, r.seq);
    if (!arrived.has(k)) arrived.set(k, r); // a duplicate counts once
  }
  const histogram = new LatencyHistogram();
  let counted = 0;
  let delivered = 0;
  let late = 0;
  let bytes = 0;
  const received: RecvEvent[] = [];
  for (const s of sends) {
    const r = arrived.get(key(s.w, s.dir, s.c, s.seq));
    const latency = r === undefined ? undefined : r.t - r.sent;
    // Goodput and latency take every arrival: what arrived is known whatever the deadline.
    if (latency !== undefined) {
      histogram.record(latency);
      if (latency <= w.deadline_ns) bytes += r!.bytes;
    }
    // Delivery judges a message only once its deadline has passed while we still watched:
    // judging the early arrivals of the last messages but not their losses would bias it up.
    if (s.t + w.deadline_ns > observedEnd) continue;
    counted++;
    if (latency === undefined) continue;
    received.push(r!);
    if (latency <= w.deadline_ns) delivered++;
    else late++;
  }
  const latency = histogram.stats();
  histogram.destroy();
  const voice =
    measuresOf(w) === 'voice-frames' && dir !== 'both'
      ? voiceStats(counted, received, w.codec ?? 'opus', w.frame_ns ?? 20e6)
      : null;
  return {
    dir,
    sent: sends.length,
    counted,
    delivered,
    late,
    lost: counted - delivered - late,
    delivery: counted === 0 ? null : delivered / counted,
    latency,
    bytes,
    // Nothing sent is nothing measured: 0 bit/s would read as a link that carried nothing.
    goodput_bps: sends.length === 0 ? null : goodput(bytes, activeNs),
    voice,
  };
}

/**
 * Messages: delivered bits over the workload's active time. Transfers get
 * `transferRate` instead (scopeStats).
 */
function goodput(bytes: number, activeNs: number): number | null {
  return activeNs > 0 ? (bytes * 8 * 1e9) / activeNs : null;
}

/**
 * The goodput of transfers: bits over the time objects spent in transfer (per connection,
 * times the connections), because counting whole objects against a time window is off by
 * up to one object at the window's ends (at 128 kbit/s a 32 KB object is two seconds).
 * Within `periods` (null: the whole run), only the transfers delivered by their deadline
 * that began and ended inside one of them count. Policies change at a phase's edge, so a
 * transfer that crosses one ran partly under each, and no share of it says what either
 * phase did: split by its share of time, one that ran at line rate for its first 2-6 ms
 * and was policed for the rest put most of its bytes into the policed phase, and
 * `tw-media.goodput <= 160kbit` read 198-212 kbit/s in 4 of 5 runs of a 150 kbit/s
 * policer. The last phase runs on past the run's end (no policy changes then), so a
 * transfer that finishes in the drain still counts there.
 */
function transferRate(
  w: CompiledWorkload,
  recvs: RecvEvent[],
  periods: Phase[] | null,
  lastPhaseStart: number,
): number | null {
  let bits = 0;
  let ns = 0;
  for (const r of recvs) {
    const took = r.t - r.sent;
    if (took > w.deadline_ns) continue;
    const inside =
      periods === null ||
      periods.some((p) => r.sent >= p.start && (p.start >= lastPhaseStart ? true : r.t <= p.end));
    if (!inside) continue;
    bits += r.bytes * 8;
    ns += Math.max(0, took);
  }
  return ns > 0 ? (bits * 1e9 * w.connections) / ns : null;
}

/** Both directions together; voice takes the worse direction's quality. */
function pool(
  per: DirectionStats[],
  w: CompiledWorkload,
  sends: SendEvent[],
  recvs: RecvEvent[],
  activeNs: number,
  observedEnd: number,
): DirectionStats {
  return poolVoice(per, directionStats(w, 'both', sends, recvs, observedEnd, activeNs));
}

/** Voice of both directions together: the worse direction's quality, the pooled loss. */
function poolVoice(per: DirectionStats[], both: DirectionStats): DirectionStats {
  const voices = per.flatMap((d) => (d.voice === null ? [] : [d.voice]));
  if (voices.length > 0) {
    const worst = voices.reduce((a, b) => (b.mos < a.mos ? b : a));
    const lossFrames = per.reduce((n, d) => n + (d.voice ? d.voice.loss * d.counted : 0), 0);
    const lateFrames = per.reduce((n, d) => n + (d.voice ? d.voice.late_loss * d.counted : 0), 0);
    both.voice = {
      ...worst,
      loss: both.counted === 0 ? 0 : lossFrames / both.counted,
      late_loss: both.counted === 0 ? 0 : lateFrames / both.counted,
      jitter_ns: maxOrNull(voices.map((v) => v.jitter_ns)),
    };
  }
  return both;
}

/** The largest of the known values; null when none is known. */
function maxOrNull(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : Math.max(...known);
}

/** The pooled (`both`) numbers of a workload in a scope. */
export function pooled(
  stats: WorkloadStats,
  phase: string | null,
): { scope: ScopeStats; both: DirectionStats } | undefined {
  const scope = stats.scopes.find((s) => s.phase === phase);
  const both = scope?.directions.find((d) => d.dir === 'both');
  return scope && both ? { scope, both } : undefined;
}
