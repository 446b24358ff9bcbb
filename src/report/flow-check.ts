/**
 * Is a line of flows.ndjson one a run writes? As for events (event-check.ts), the report
 * recomputes the flows summary from these lines, so a field of the wrong type is refused
 * with its line, never computed with.
 */
import { fits, show, type Kind } from './event-check.js';

type Spec = Record<string, Kind>;

const SAMPLE_DIRECTION: Spec = {
  packets: 'number',
  bytes: 'number',
  goodput_bytes: 'number',
  retransmits: 'number',
  rtt_n: 'number',
  rtt_sum_ns: 'number',
  stalls: 'number',
  rtp_expected: 'number',
  rtp_lost: 'number',
};

const FLOW_DIRECTION: Spec = {
  packets_in: 'number',
  bytes_in: 'number',
  packets_out: 'number',
  bytes_out: 'number',
  goodput_bytes: 'number',
};

const OPTIONAL_DIRECTION: Spec = {
  retransmits: 'number',
  stalls: 'number',
  fin_ns: 'number|null',
  rst_ns: 'number|null',
};

const PARTS: Record<string, Spec> = {
  tcp: { syn_ns: 'number|null', handshake_ns: 'number|null', lab_rst_ns: 'number|null' },
  tls: { client_hello_ns: 'number', server_hello_ns: 'number|null', app_data_ns: 'number|null' },
  quic: { initial_ns: 'number', one_rtt_ns: 'number|null' },
};

const ATTRIBUTION: Spec = { id: 'number', workload: 'string|null', host: 'string|null' };

function fields(o: Record<string, unknown>, spec: Spec, where: string, required = true) {
  for (const [name, kind] of Object.entries(spec)) {
    if (!(name in o) || o[name] === undefined) {
      if (required) return `${where} without ${name}`;
      continue;
    }
    if (!fits(o[name], kind)) {
      return `${where}: ${name} ${show(o[name])} is not a ${kind.replace('number', 'finite number')}`;
    }
  }
  return undefined;
}

function object(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function strings(v: unknown): boolean {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function counts(v: unknown): boolean {
  const o = object(v);
  return o !== undefined && Object.values(o).every((n) => fits(n, 'number'));
}

function direction(line: Record<string, unknown>, d: 'up' | 'down', spec: Spec, ev: string) {
  const o = object(line[d]);
  if (o === undefined) return `${ev} line without ${d}`;
  if (!counts(o.drops)) return `${ev} line: ${d}.drops is not counts by reason`;
  return (
    fields(o, spec, `${ev} line ${d}`) ??
    (ev === 'flow' ? fields(o, OPTIONAL_DIRECTION, `${ev} line ${d}`, false) : undefined)
  );
}

/** What is wrong with `value` as a line of flows.ndjson, or undefined when nothing is. */
export function flowLineProblem(value: object): string | undefined {
  const l = value as Record<string, unknown>;
  switch (l.ev) {
    case 'open':
      if (!strings(l.workloads) || !strings(l.classes)) {
        return 'open line: workloads and classes must be lists of names';
      }
      return fields(l, { ...ATTRIBUTION, t: 'number' }, 'open line');
    case 'sample':
      return (
        fields(l, { id: 'number', from: 'number', t: 'number' }, 'sample line') ??
        direction(l, 'up', SAMPLE_DIRECTION, 'sample') ??
        direction(l, 'down', SAMPLE_DIRECTION, 'sample')
      );
    case 'flow': {
      if (!strings(l.workloads) || !strings(l.classes)) {
        return 'flow line: workloads and classes must be lists of names';
      }
      const problem =
        fields(l, { ...ATTRIBUTION, first_ns: 'number', last_ns: 'number' }, 'flow line') ??
        direction(l, 'up', FLOW_DIRECTION, 'flow') ??
        direction(l, 'down', FLOW_DIRECTION, 'flow');
      if (problem !== undefined) return problem;
      for (const [part, spec] of Object.entries(PARTS)) {
        if (l[part] === undefined) continue;
        const o = object(l[part]);
        if (o === undefined) return `flow line: ${part} is not an object`;
        const p = fields(o, spec, `flow line ${part}`, false);
        if (p !== undefined) return p;
      }
      return undefined;
    }
    default:
      return `not a flows.ndjson line (ev ${JSON.stringify(l.ev)})`;
  }
}
