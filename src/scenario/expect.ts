/**
 * The `expect` mini-language: `<workload>.<metric> <op> <value> [during <phase>]`.
 * The value's unit depends on the metric, so "latency.p95 > 99%" is caught here rather
 * than after a minute-long run.
 */
import { didYouMean } from './suggest.js';
import { parseDuration, parseProbability, parseRate, parseSize, type Parsed } from './units.js';

/** What a metric's value is measured in, which decides how its bound is parsed. */
export type MetricKind = 'ratio' | 'duration' | 'rate' | 'score' | 'count' | 'size' | 'fps';

export const METRICS: Readonly<Record<string, MetricKind>> = {
  delivery: 'ratio',
  'latency.p50': 'duration',
  'latency.p90': 'duration',
  'latency.p95': 'duration',
  'latency.p99': 'duration',
  'latency.max': 'duration',
  goodput: 'rate',
  'connect.p50': 'duration',
  'tls.p50': 'duration',
  'dns.p50': 'duration',
  loss: 'ratio',
  jitter: 'duration',
  mos: 'score',
  reconnects: 'count',
  'stall.bytes': 'size',
  'video.fps': 'fps',
  // From the flows the core metered (any workload, `command` ones included): see FLOW_METRICS.
  'flows.goodput': 'rate',
  'flows.goodput.up': 'rate',
  'flows.goodput.down': 'rate',
  'flows.opened': 'count',
  'tcp.handshake.p50': 'duration',
  'tcp.handshake.p95': 'duration',
  'quic.handshake.p50': 'duration',
  'rtt.mean': 'duration',
  retransmits: 'count',
  stalls: 'count',
  resets: 'count',
  'rtp.loss': 'ratio',
  // What the user of a connection-oriented workload lived with (src/metrics/session.ts).
  'setup.success': 'ratio',
  'setup.p50': 'duration',
  'setup.p95': 'duration',
  'recover.p50': 'duration',
  'recover.max': 'duration',
  connecting: 'ratio',
  detects: 'count',
  retries: 'count',
  failed: 'ratio',
};

/** Metrics only a workload with a session (keepalive, reconnect, fallback) measures. */
export const SESSION_METRICS: ReadonlySet<string> = new Set([
  'setup.success',
  'setup.p50',
  'setup.p95',
  'recover.p50',
  'recover.max',
  'connecting',
  'detects',
  'retries',
  'failed',
]);

/**
 * Metrics measured from the workload's flows as the core metered them, whatever ran
 * them: payload goodput per direction, TCP/QUIC handshakes, RTT, retransmissions, stalls,
 * resets, RTP loss. (`tls.p50` is the agent's TLS time, or for a workload without one,
 * a `command`, its flows' ClientHello → first application data.)
 */
export const FLOW_METRICS: ReadonlySet<string> = new Set([
  'flows.goodput',
  'flows.goodput.up',
  'flows.goodput.down',
  'flows.opened',
  'tcp.handshake.p50',
  'tcp.handshake.p95',
  'quic.handshake.p50',
  'rtt.mean',
  'retransmits',
  'stalls',
  'resets',
  'rtp.loss',
]);

/**
 * Metrics only a voice workload measures (RTP-like loss, RFC 3550 jitter, E-model MOS):
 * a protocol whose traits say it measures voice (`measuresVoice`, ./protocols/index.ts).
 */
export const VOICE_METRICS: ReadonlySet<string> = new Set(['loss', 'jitter', 'mos']);
/**
 * Metrics read from a workload's connections (its `connect` events): a protocol whose
 * traits say it connects (`connects`, ./protocols/protocol.ts).
 */
export const CONNECTION_METRICS: ReadonlySet<string> = new Set([
  'connect.p50',
  'tls.p50',
  'dns.p50',
  'reconnects',
]);
/** Metrics only a webrtc call with `video: true` measures. */
export const VIDEO_METRICS: ReadonlySet<string> = new Set(['video.fps']);

export const EXPECT_OPS = ['<', '<=', '>', '>=', '=='] as const;
export type ExpectOp = (typeof EXPECT_OPS)[number];

export interface Expectation {
  /** The line as written, to show next to the measured value. */
  text: string;
  workload: string;
  metric: string;
  op: ExpectOp;
  /** In the metric's base unit: ratio 0..1, nanoseconds, bits/s, MOS 1..5, a count or bytes. */
  value: number;
  kind: MetricKind;
  /** `null`: over the whole run. */
  phase: string | null;
}

const FORM = "'<workload>.<metric> <op> <value> [during <phase>]'";
const LINE = /^(\S+?)\.(\S+?)\s*(<=|>=|==|<|>)\s*(\S+)(?:\s+(\S+)(?:\s+(\S+))?)?\s*$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export function parseExpect(text: unknown): Parsed<Expectation> {
  if (typeof text !== 'string') {
    return { ok: false, message: `expected a string ${FORM}, found ${typeof text}` };
  }
  const m = LINE.exec(text.trim());
  if (!m) return { ok: false, message: `expected ${FORM}, found '${text}'` };
  const [, workload, metric, op, rawValue, during, phase] = m as unknown as string[];
  if (!NAME.test(workload!)) {
    return { ok: false, message: `'${workload}' is not a workload name in '${text}'` };
  }
  const kind = METRICS[metric!];
  if (kind === undefined) {
    return {
      ok: false,
      message:
        `unknown metric '${metric}'${didYouMean(metric!, Object.keys(METRICS))}` +
        ` (metrics: ${Object.keys(METRICS).join(', ')})`,
    };
  }
  if (during !== undefined && (during !== 'during' || phase === undefined)) {
    return { ok: false, message: `expected 'during <phase>' after the value, found '${text}'` };
  }
  const value = parseBound(kind, rawValue!);
  if (!value.ok) return { ok: false, message: `${metric}: ${value.message}` };
  return {
    ok: true,
    value: {
      text: text.trim(),
      workload: workload!,
      metric: metric!,
      op: op as ExpectOp,
      value: value.value,
      kind,
      phase: phase ?? null,
    },
  };
}

function parseBound(kind: MetricKind, raw: string): Parsed<number> {
  switch (kind) {
    case 'ratio': {
      const n = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
      return parseProbability(n);
    }
    case 'duration':
      return parseDuration(raw);
    case 'rate':
      return parseRate(raw);
    case 'score': {
      const n = Number(raw);
      return /^\d+(\.\d+)?$/.test(raw) && n >= 1 && n <= 5
        ? { ok: true, value: n }
        : { ok: false, message: `expected a MOS from 1 to 5 like 3.6, found '${raw}'` };
    }
    case 'size':
      return parseSize(raw);
    case 'fps':
      return /^\d+(\.\d+)?$/.test(raw)
        ? { ok: true, value: Number(raw) }
        : { ok: false, message: `expected frames per second like 24, found '${raw}'` };
    case 'count':
      return /^\d+$/.test(raw)
        ? { ok: true, value: Number(raw) }
        : { ok: false, message: `expected a whole number like 3, found '${raw}'` };
  }
}
