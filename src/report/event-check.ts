/**
 * Is a line of events.ndjson an event a run writes? The report recomputes every number
 * from these lines, so a field of the wrong type is refused, not computed with: a bytes
 * field "200" made goodput 8e236 bit/s (string concatenation), a `sent` of "x" made every
 * latency NaN, a `t` of 1e400 a latency max of Infinity.
 */

export type Kind = 'number' | 'string' | 'boolean' | 'number|null' | 'string|null';

const COMMON = { w: 'string', c: 'number', t: 'number' } as const;

/** Required fields of each event type; optional ones are checked when present. */
const FIELDS: Record<string, { required: Record<string, Kind>; optional?: Record<string, Kind> }> =
  {
    send: { required: { ...COMMON, dir: 'string', seq: 'number', bytes: 'number' } },
    recv: {
      required: { ...COMMON, dir: 'string', seq: 'number', sent: 'number', bytes: 'number' },
    },
    connect: {
      required: { ...COMMON, connect_ns: 'number', tls_ns: 'number|null', reconnect: 'boolean' },
      optional: {
        proto: 'string',
        quic_version: 'string',
        transport: 'string',
        setup_ns: 'number',
        login_ns: 'number|null',
        recover_ns: 'number|null',
        dns_ns: 'number|null',
      },
    },
    detect: {
      required: { ...COMMON, cause: 'string', silent_ns: 'number', transport: 'string' },
    },
    retry: { required: { ...COMMON, dir: 'string', seq: 'number', attempt: 'number' } },
    giveup: { required: { ...COMMON, dir: 'string', seq: 'number', attempts: 'number' } },
    fail: {
      required: { ...COMMON, stage: 'string', error: 'string' },
      optional: { bytes: 'number', setup_ns: 'number' },
    },
    rtc: {
      required: { ...COMMON, dir: 'string', side: 'string', from: 'number', kind: 'string' },
      optional: {
        packets_sent: 'number',
        target_bitrate_bps: 'number|null',
        rtt_s: 'number|null',
        packets_received: 'number',
        packets_lost: 'number',
        packets_discarded: 'number',
        bytes_received: 'number',
        jitter_s: 'number',
        total_samples: 'number',
        concealed_samples: 'number',
        concealment_events: 'number',
        jitter_buffer_delay_s: 'number',
        jitter_buffer_emitted: 'number',
        frames_decoded: 'number',
        frames_dropped: 'number',
        freeze_count: 'number',
        freeze_s: 'number',
      },
    },
    phase: { required: { phase: 'string', t: 'number' } },
    lab_stall: { required: { source: 'string', t: 'number', dur_ns: 'number' } },
    agent_lag: { required: { role: 'string', t: 'number', dur_ns: 'number' } },
    dns: {
      required: {
        t: 'number',
        transport: 'string',
        client: 'string',
        name: 'string',
        type: 'string',
        rcode: 'string',
        rule: 'string|null',
      },
    },
    agent: {
      required: {
        role: 'string',
        state: 'string',
        t: 'number',
        code: 'number|null',
        signal: 'string|null',
        detail: 'string',
      },
      optional: { workload: 'string' },
    },
    program: {
      required: { w: 'string', role: 'string', state: 'string', t: 'number', pid: 'number|null' },
      optional: { code: 'number|null', signal: 'string|null' },
    },
  };

export function fits(v: unknown, kind: Kind): boolean {
  if (v === null) return kind.endsWith('|null');
  if (kind.startsWith('number')) return typeof v === 'number' && Number.isFinite(v);
  return typeof v === kind.replace('|null', '');
}

/** A value as the line had it (JSON.stringify would show Infinity as null). */
export const show = (v: unknown) => (typeof v === 'number' ? String(v) : JSON.stringify(v));

/** What is wrong with `value` as a measurement event, or undefined when nothing is. */
export function eventProblem(value: object): string | undefined {
  const e = value as Record<string, unknown>;
  const spec = typeof e.ev === 'string' ? FIELDS[e.ev] : undefined;
  if (spec === undefined) return `not a measurement event (ev ${JSON.stringify(e.ev)})`;
  for (const [name, kind] of Object.entries(spec.required)) {
    if (!(name in e)) return `${e.ev} event without ${name}`;
    if (!fits(e[name], kind))
      return `${e.ev} event: ${name} ${show(e[name])} is not a ${kind.replace('number', 'finite number')}`;
  }
  for (const [name, kind] of Object.entries(spec.optional ?? {})) {
    if (e[name] !== undefined && !fits(e[name], kind)) {
      return `${e.ev} event: ${name} ${show(e[name])} is not a ${kind.replace('number', 'finite number')}`;
    }
  }
  return undefined;
}
