/**
 * Flows, as the core metered them: its cumulative per-flow records become flows.ndjson
 * lines on the run's clock (`open`, per-interval `sample`s, the final `flow`), each flow
 * attributed to the workload whose endpoints it goes to; and those lines become the
 * summary's numbers per workload, per class and per phase. Pure functions: the polling
 * and writing is run/flow-log.ts.
 */
import type { FlowDirection, FlowRecord } from '../native/index.js';
import type {
  FlowEndLine,
  FlowGroupStats,
  FlowLine,
  FlowOpenLine,
  FlowSampleDirection,
  FlowSampleLine,
  FlowScopeStats,
  FlowsSummary,
  HandshakeStats,
} from '../record/flows.js';
import type { Phase } from '../record/summary.js';
import type { CompiledHost, CompiledWorkload } from '../scenario/compiled.js';
import { flowEndpoints } from '../scenario/protocols/index.js';
import { percentiles } from './histogram.js';
import { phaseAt, phaseNames, phaseTime } from './phases.js';

export interface Attribution {
  workload: string | null;
  workloads: string[];
  host: string | null;
}

type Endpointed = Pick<FlowRecord, 'server' | 'server_port' | 'proto'>;

/**
 * The workloads a flow belongs to: those naming its server address, transport and port;
 * failing that, those claiming any port of that address (webrtc media). One match is
 * the flow's workload; several (workloads sharing a host's TLS port) leave it to all.
 */
export function attribute(
  f: Endpointed,
  workloads: readonly CompiledWorkload[],
  hosts: readonly CompiledHost[],
): Attribution {
  const transport = f.proto === 'tcp' || f.proto === 'udp' ? f.proto : null;
  const exact: string[] = [];
  const anyPort: string[] = [];
  if (transport !== null) {
    for (const w of workloads) {
      for (const e of flowEndpoints(w)) {
        if (e.address !== f.server || e.transport !== transport) continue;
        if (e.port === null) anyPort.push(w.name);
        else if (
          Array.isArray(e.port)
            ? f.server_port >= e.port[0] && f.server_port <= e.port[1]
            : e.port === f.server_port
        ) {
          exact.push(w.name);
        }
      }
    }
  }
  const names = [...new Set(exact.length > 0 ? exact : anyPort)];
  const host = hosts.find((h) => h.address === f.server || h.address6 === f.server);
  return {
    workload: names.length === 1 ? names[0]! : null,
    workloads: names,
    host: host?.name ?? null,
  };
}

/** The record with its times (not its durations) moved by `shift` ns: pipeline → run clock. */
export function onRunClock(r: FlowRecord, shift: number): FlowRecord {
  const t = (v: number | null | undefined) => (v === null || v === undefined ? v : v + shift);
  const dir = (d: FlowDirection): FlowDirection =>
    d.fin_ns === undefined ? d : { ...d, fin_ns: t(d.fin_ns), rst_ns: t(d.rst_ns) };
  return {
    ...r,
    first_ns: r.first_ns + shift,
    last_ns: r.last_ns + shift,
    up: dir(r.up),
    down: dir(r.down),
    ...(r.tcp && { tcp: { ...r.tcp, syn_ns: t(r.tcp.syn_ns)!, lab_rst_ns: t(r.tcp.lab_rst_ns)! } }),
    ...(r.tls && {
      tls: {
        client_hello_ns: r.tls.client_hello_ns + shift,
        server_hello_ns: t(r.tls.server_hello_ns)!,
        app_data_ns: t(r.tls.app_data_ns)!,
      },
    }),
    ...(r.quic && {
      quic: { initial_ns: r.quic.initial_ns + shift, one_rtt_ns: t(r.quic.one_rtt_ns)! },
    }),
  };
}

function rtpTotals(d: FlowDirection | undefined): { expected: number; lost: number } {
  let expected = 0;
  let lost = 0;
  for (const s of d?.rtp ?? []) {
    expected += s.expected;
    lost += s.lost;
  }
  return { expected, lost };
}

function direction(prev: FlowDirection | undefined, next: FlowDirection): FlowSampleDirection {
  const diff = (a: number | undefined, b: number | undefined) => Math.max(0, (b ?? 0) - (a ?? 0));
  const drops: Record<string, number> = {};
  for (const [reason, n] of Object.entries(next.drops)) {
    const d = diff(prev?.drops[reason as keyof typeof next.drops], n);
    if (d > 0) drops[reason] = d;
  }
  const rtpPrev = rtpTotals(prev);
  const rtpNext = rtpTotals(next);
  return {
    packets: diff(prev?.packets_out, next.packets_out),
    bytes: diff(prev?.bytes_out, next.bytes_out),
    goodput_bytes: diff(prev?.goodput_bytes, next.goodput_bytes),
    drops,
    retransmits: diff(prev?.retransmits, next.retransmits),
    rtt_n: diff(prev?.rtt?.n, next.rtt?.n),
    rtt_sum_ns: diff(prev?.rtt?.sum_ns, next.rtt?.sum_ns),
    stalls: diff(prev?.stalls, next.stalls),
    rtp_expected: diff(rtpPrev.expected, rtpNext.expected),
    rtp_lost: diff(rtpPrev.lost, rtpNext.lost),
  };
}

function quiet(d: FlowSampleDirection): boolean {
  return (
    d.packets === 0 &&
    Object.keys(d.drops).length === 0 &&
    d.retransmits === 0 &&
    d.rtt_n === 0 &&
    d.stalls === 0 &&
    d.rtp_expected === 0
  );
}

/**
 * What a flow did between two of its records (`prev` undefined: since it began), over
 * (`from`, `t`]; null when nothing changed that a sample carries.
 */
export function sampleOf(
  prev: FlowRecord | undefined,
  next: FlowRecord,
  from: number,
  t: number,
): FlowSampleLine | null {
  const up = direction(prev?.up, next.up);
  const down = direction(prev?.down, next.down);
  if (quiet(up) && quiet(down)) return null;
  return { ev: 'sample', id: next.id, from, t, up, down };
}

export function openLine(r: FlowRecord, a: Attribution): FlowOpenLine {
  return {
    ev: 'open',
    id: r.id,
    t: r.first_ns,
    proto: r.proto,
    client: r.client,
    client_port: r.client_port,
    server: r.server,
    server_port: r.server_port,
    opened_by: r.opened_by,
    classes: r.classes,
    ...a,
  };
}

export function endLine(r: FlowRecord, a: Attribution): FlowEndLine {
  return { ...r, ev: 'flow', ...a };
}

// ---- the summary --------------------------------------------------------------------

export interface FlowSummaryInput {
  lines: Iterable<FlowLine>;
  /** As the run applied them. */
  phases: Phase[];
  /** ns since t0 until which the run watched; nothing later counts. */
  observedEnd: number;
  workloads: readonly CompiledWorkload[];
  classes: readonly string[];
}

interface FlowData {
  open?: FlowOpenLine;
  end?: FlowEndLine;
  samples: FlowSampleLine[];
}

function handshakeStats(values: number[]): HandshakeStats {
  const p = percentiles(values);
  return { count: values.length, p50: p.p50, p95: p.p95, max: p.max };
}

/** The group a flow counts in: its workload, the workloads sharing its endpoint, or none. */
function groupOf(f: FlowData): string | null {
  const a = f.end ?? f.open;
  if (a === undefined) return null;
  if (a.workload !== null) return a.workload;
  return a.workloads.length > 1 ? a.workloads.join('+') : null;
}

function scopeStats(
  flows: FlowData[],
  phase: string | null,
  input: FlowSummaryInput,
  activeNs: number,
): FlowScopeStats {
  const { phases, observedEnd } = input;
  const inScope = (t: number | null | undefined): t is number =>
    t !== null &&
    t !== undefined &&
    t <= observedEnd &&
    (phase === null || phaseAt(phases, t) === phase);
  const samples = flows.flatMap((f) => f.samples.filter((s) => inScope((s.from + s.t) / 2)));
  const ends = flows.flatMap((f) => (f.end === undefined ? [] : [f.end]));
  const sum = (pick: (d: FlowSampleDirection) => number, dirs: ('up' | 'down')[]) =>
    samples.reduce((n, s) => n + dirs.reduce((m, d) => m + pick(s[d]), 0), 0);
  const both: ('up' | 'down')[] = ['up', 'down'];
  const bytesUp = sum((d) => d.goodput_bytes, ['up']);
  const bytesDown = sum((d) => d.goodput_bytes, ['down']);
  const rate = (bytes: number) => (bytes * 8e9) / activeNs;
  const rttN = sum((d) => d.rtt_n, both);
  const expected = sum((d) => d.rtp_expected, both);
  const lost = sum((d) => d.rtp_lost, both);
  const drops: Record<string, number> = {};
  for (const s of samples) {
    for (const d of both) {
      for (const [r, n] of Object.entries(s[d].drops)) drops[r] = (drops[r] ?? 0) + n;
    }
  }
  const span = (a: number | null | undefined, b: number | null | undefined) =>
    a === null || a === undefined || b === null || b === undefined ? [] : [b - a];
  return {
    phase,
    opened: flows.filter((f) => inScope(f.open?.t ?? f.end?.first_ns)).length,
    goodput_bps:
      activeNs > 0
        ? { up: rate(bytesUp), down: rate(bytesDown), both: rate(bytesUp + bytesDown) }
        : null,
    goodput_bytes: { up: bytesUp, down: bytesDown },
    tcp_handshake: handshakeStats(
      ends.flatMap((e) =>
        inScope(e.tcp?.syn_ns) && e.tcp?.handshake_ns != null ? [e.tcp.handshake_ns] : [],
      ),
    ),
    tls_handshake: handshakeStats(
      ends.flatMap((e) =>
        inScope(e.tls?.client_hello_ns) ? span(e.tls?.client_hello_ns, e.tls?.app_data_ns) : [],
      ),
    ),
    quic_handshake: handshakeStats(
      ends.flatMap((e) =>
        inScope(e.quic?.initial_ns) ? span(e.quic?.initial_ns, e.quic?.one_rtt_ns) : [],
      ),
    ),
    rtt_mean_ns: rttN > 0 ? sum((d) => d.rtt_sum_ns, both) / rttN : null,
    rtt_samples: rttN,
    retransmits: sum((d) => d.retransmits, both),
    stalls: sum((d) => d.stalls, both),
    resets: {
      client: ends.filter((e) => inScope(e.up.rst_ns)).length,
      server: ends.filter((e) => inScope(e.down.rst_ns)).length,
      lab: ends.filter((e) => inScope(e.tcp?.lab_rst_ns)).length,
    },
    rtp: expected > 0 ? { expected, lost, loss: lost / expected } : null,
    drops,
  };
}

/** The summary's `flows`: per workload, per class and unattributed, per phase and in all. */
export function summarizeFlows(input: FlowSummaryInput): FlowsSummary {
  const byId = new Map<number, FlowData>();
  const data = (id: number) => {
    let f = byId.get(id);
    if (f === undefined) byId.set(id, (f = { samples: [] }));
    return f;
  };
  for (const line of input.lines) {
    if (line.ev === 'open') data(line.id).open = line;
    else if (line.ev === 'sample') data(line.id).samples.push(line);
    else data(line.id).end = line;
  }
  const flows = [...byId.values()];
  const watched = input.phases.filter((p) => p.start < input.observedEnd);
  const scopes: (string | null)[] = [...phaseNames(watched), null];
  const observed = (phase: string | null, from = 0, to = input.observedEnd) =>
    phaseTime(input.phases, phase, from, Math.min(to, input.observedEnd));
  const group = (name: string, members: FlowData[], active: (p: string | null) => number) => ({
    name,
    scopes: scopes.map((p) => scopeStats(members, p, input, active(p))),
  });
  const workloadGroups: FlowGroupStats[] = input.workloads.map((w) =>
    group(
      w.name,
      flows.filter((f) => groupOf(f) === w.name),
      (p) => observed(p, w.start_ns, w.stop_ns),
    ),
  );
  // Flows several workloads share (one TLS port): one group for them together.
  const shared = [...new Set(flows.map(groupOf))].filter(
    (g): g is string => g !== null && !input.workloads.some((w) => w.name === g),
  );
  for (const name of shared) {
    workloadGroups.push(
      group(
        name,
        flows.filter((f) => groupOf(f) === name),
        (p) => observed(p),
      ),
    );
  }
  const classesOf = (f: FlowData) => f.end?.classes ?? f.open?.classes ?? [];
  return {
    count: flows.length,
    workloads: workloadGroups,
    classes: input.classes.map((c) =>
      group(
        c,
        flows.filter((f) => classesOf(f).includes(c)),
        (p) => observed(p),
      ),
    ),
    unattributed: group(
      '',
      flows.filter((f) => groupOf(f) === null),
      (p) => observed(p),
    ),
  };
}

/** One group's numbers in one scope (a phase name, or null for the whole run). */
export function flowScope(
  summary: FlowsSummary | undefined,
  name: string,
  phase: string | null,
): FlowScopeStats | undefined {
  return summary?.workloads.find((g) => g.name === name)?.scopes.find((s) => s.phase === phase);
}

/**
 * The value of a flow metric (scenario/expect.ts FLOW_METRICS, and `tls.p50` for
 * workloads whose agent times no TLS) in one scope; null when no flow of the workload
 * was seen there, so a count of 0 is never claimed for flows nobody observed.
 */
export function measureFlow(metric: string, s: FlowScopeStats | undefined): number | null {
  if (s === undefined || (s.opened === 0 && s.goodput_bytes.up + s.goodput_bytes.down === 0)) {
    return null;
  }
  switch (metric) {
    case 'flows.goodput':
      return s.goodput_bps?.both ?? null;
    case 'flows.goodput.up':
      return s.goodput_bps?.up ?? null;
    case 'flows.goodput.down':
      return s.goodput_bps?.down ?? null;
    case 'flows.opened':
      return s.opened;
    case 'tcp.handshake.p50':
      return s.tcp_handshake.p50;
    case 'tcp.handshake.p95':
      return s.tcp_handshake.p95;
    case 'quic.handshake.p50':
      return s.quic_handshake.p50;
    case 'tls.p50':
      return s.tls_handshake.p50;
    case 'rtt.mean':
      return s.rtt_mean_ns;
    case 'retransmits':
      return s.retransmits;
    case 'stalls':
      return s.stalls;
    case 'resets':
      return s.resets.client + s.resets.server + s.resets.lab;
    case 'rtp.loss':
      return s.rtp?.loss ?? null;
    default:
      return null;
  }
}
