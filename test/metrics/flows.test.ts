/**
 * The flows' lines and numbers from fixed core records: attribution by endpoint, the
 * pipeline clock moved onto the run's, samples as differences, and the summary per
 * workload, class and phase with the expectation metrics read from it.
 */
import { describe, expect, it } from 'vitest';
import {
  attribute,
  endLine,
  measureFlow,
  onRunClock,
  openLine,
  sampleOf,
  summarizeFlows,
} from '../../src/metrics/flows.js';
import { checkExpectations } from '../../src/metrics/expect.js';
import type { FlowDirection, FlowRecord } from '../../src/native/index.js';
import type { FlowLine } from '../../src/record/flows.js';
import type { CompiledExpectation, CompiledHost } from '../../src/scenario/compiled.js';
import { flowLineProblem } from '../../src/report/flow-check.js';
import { compareSummaries } from '../../src/report/compare.js';
import { flowCharts, flowsSection } from '../../src/report/flows.js';
import type { RunSummary } from '../../src/record/summary.js';
import { workload } from './workload.js';

const MS = 1e6;
const S = 1e9;

function dir(p: Partial<FlowDirection> = {}): FlowDirection {
  return {
    packets_in: 0,
    bytes_in: 0,
    packets_out: 0,
    bytes_out: 0,
    goodput_bytes: 0,
    drops: {},
    retransmits: 0,
    retransmit_bytes: 0,
    rtt: { n: 0, sum_ns: 0, min_ns: 0, max_ns: 0 },
    stalls: 0,
    stalled_ns: 0,
    stalled: false,
    fin_ns: null,
    rst_ns: null,
    ...p,
  };
}

function flow(p: Partial<FlowRecord> = {}): FlowRecord {
  return {
    id: 1,
    proto: 'tcp',
    client: '198.18.0.1',
    client_port: 40000,
    server: '198.19.1.1',
    server_port: 443,
    opened_by: 'client',
    first_ns: 0,
    last_ns: 0,
    live: true,
    classes: [],
    policies: [],
    actions: [],
    up: dir(),
    down: dir(),
    tcp: {
      syn_by: 'client',
      syn_ns: 0,
      handshake_ns: null,
      accept_handshake_ns: null,
      lab_rst_ns: null,
    },
    ...p,
  };
}

const hosts: CompiledHost[] = [
  { name: 'server', names: ['server.lab'], address: '198.19.0.1', address6: null },
  { name: 'chat', names: ['chat.lab'], address: '198.19.1.1', address6: 'fd71:6c61:6200:2::101' },
];

describe('attribute', () => {
  const chat = { address: '198.19.1.1', address6: 'fd71:6c61:6200:2::101', host: 'chat' };
  const ws = workload({ name: 'ws', ...chat, protocol: 'websocket', port: 443 });
  const h2 = workload({ name: 'h2', ...chat, protocol: 'http2', port: 443 });
  const tf = workload({ name: 'tf', ...chat, protocol: 'tcp-framed', port: 5222 });
  const call = workload({
    name: 'call',
    ...chat,
    protocol: 'webrtc',
    port: 8443,
    video: false,
    turn: null,
    turn_port: null,
    turn_transport: null,
    turn_address: null,
    turn_server_name: null,
  });
  const voice = workload({ name: 'voice', ...chat, protocol: 'udp-voice', port: 3478 });

  it('gives a flow to the one workload on its address, transport and port', () => {
    expect(attribute(flow({ server_port: 5222 }), [ws, tf], hosts)).toEqual({
      workload: 'tf',
      workloads: ['tf'],
      host: 'chat',
    });
    expect(
      attribute(flow({ server: 'fd71:6c61:6200:2::101', server_port: 5222 }), [tf], hosts),
    ).toMatchObject({ workload: 'tf' });
  });

  it('leaves a shared TLS port to all its workloads, and strangers to none', () => {
    expect(attribute(flow(), [ws, h2], hosts)).toEqual({
      workload: null,
      workloads: ['ws', 'h2'],
      host: 'chat',
    });
    expect(attribute(flow({ server: '198.19.0.1', server_port: 53 }), [ws], hosts)).toEqual({
      workload: null,
      workloads: [],
      host: 'server',
    });
  });

  it('gives webrtc media on any UDP port, unless a workload names the port', () => {
    const media = flow({ proto: 'udp', server_port: 51234, tcp: undefined });
    expect(attribute(media, [call, voice], hosts).workload).toBe('call');
    expect(attribute({ ...media, server_port: 3478 }, [call, voice], hosts).workload).toBe('voice');
    expect(attribute({ ...media, proto: 'tcp' }, [call], hosts).workload).toBeNull();
  });
});

describe('flow lines', () => {
  it('moves times but not durations onto the run clock', () => {
    const r = onRunClock(
      flow({
        first_ns: 5 * S,
        last_ns: 6 * S,
        up: dir({ fin_ns: 6 * S }),
        tcp: {
          syn_by: 'client',
          syn_ns: 5 * S,
          handshake_ns: 40 * MS,
          accept_handshake_ns: 40 * MS,
          lab_rst_ns: null,
        },
        tls: { client_hello_ns: 5.1 * S, server_hello_ns: null, app_data_ns: 5.2 * S },
      }),
      -4 * S,
    );
    expect([r.first_ns, r.last_ns, r.up.fin_ns, r.down.fin_ns]).toEqual([S, 2 * S, 2 * S, null]);
    expect(r.tcp).toMatchObject({ syn_ns: S, handshake_ns: 40 * MS, lab_rst_ns: null });
    expect(r.tls).toEqual({
      client_hello_ns: 1.1 * S,
      server_hello_ns: null,
      app_data_ns: 1.2 * S,
    });
  });

  it('samples what changed between two records, and nothing when nothing did', () => {
    const a = flow({ up: dir({ packets_out: 10, goodput_bytes: 1000, drops: { police: 1 } }) });
    const b = flow({
      up: dir({
        packets_out: 15,
        goodput_bytes: 1500,
        drops: { police: 3, loss: 1 },
        retransmits: 2,
        rtt: { n: 3, sum_ns: 90 * MS, min_ns: 0, max_ns: 0 },
      }),
    });
    const s = sampleOf(a, b, S, 2 * S)!;
    expect(s.up).toMatchObject({
      packets: 5,
      goodput_bytes: 500,
      drops: { police: 2, loss: 1 },
      retransmits: 2,
      rtt_n: 3,
      rtt_sum_ns: 90 * MS,
    });
    expect(s.down.packets).toBe(0);
    expect(sampleOf(b, b, 2 * S, 3 * S)).toBeNull();
    for (const line of [
      s,
      openLine(b, attribute(b, [], hosts)),
      endLine(b, attribute(b, [], hosts)),
    ]) {
      expect(flowLineProblem(line)).toBeUndefined();
    }
    expect(flowLineProblem({ ...s, t: '2' })).toMatch(/t "2" is not a finite number/);
    expect(flowLineProblem({ ev: 'x' })).toMatch(/not a flows.ndjson line/);
  });
});

describe('summarizeFlows', () => {
  const chat = { address: '198.19.1.1', address6: null, host: 'chat' };
  const app = workload({ name: 'app', ...chat, protocol: 'tcp-framed', port: 5222 });
  const phases = [
    { name: 'open', start: 0, end: 5 * S },
    { name: 'throttled', start: 5 * S, end: 10 * S },
  ];
  const up = (t: number, goodput: number, extra: Partial<FlowLine> = {}): FlowLine => ({
    ev: 'sample',
    id: 1,
    from: t - S,
    t,
    up: {
      packets: 1,
      bytes: goodput,
      goodput_bytes: goodput,
      drops: {},
      retransmits: 0,
      rtt_n: 1,
      rtt_sum_ns: 30 * MS,
      stalls: 0,
      rtp_expected: 0,
      rtp_lost: 0,
    },
    down: {
      packets: 0,
      bytes: 0,
      goodput_bytes: 0,
      drops: {},
      retransmits: 0,
      rtt_n: 0,
      rtt_sum_ns: 0,
      stalls: 0,
      rtp_expected: 0,
      rtp_lost: 0,
    },
    ...extra,
  });
  const record = flow({
    server_port: 5222,
    classes: ['chat'],
    tcp: {
      syn_by: 'client',
      syn_ns: 0.5 * S,
      handshake_ns: 40 * MS,
      accept_handshake_ns: 40 * MS,
      lab_rst_ns: null,
    },
    tls: { client_hello_ns: 0.55 * S, server_hello_ns: 0.6 * S, app_data_ns: 0.65 * S },
    down: dir({ rst_ns: 9 * S }),
  });
  const a = attribute(record, [app], hosts);
  // 125 kB/s (1 Mbit/s) while open, 10 kB/s (80 kbit/s) throttled, one stall there.
  const lines: FlowLine[] = [
    openLine({ ...record, first_ns: 0.5 * S }, a),
    ...[1, 2, 3, 4, 5].map((i) => up(i * S, 125_000)),
    ...[6, 7, 8, 9].map((i) => up(i * S, 10_000)),
    up(10 * S, 10_000, {}),
    endLine(record, a),
  ];
  (lines[10] as Extract<FlowLine, { ev: 'sample' }>).up.stalls = 1;
  const summary = summarizeFlows({
    lines,
    phases,
    observedEnd: 10 * S,
    workloads: [app],
    classes: ['chat'],
  });

  it('gives goodput per phase over its time, handshakes where they began', () => {
    const open = summary.workloads[0]!.scopes.find((s) => s.phase === 'open')!;
    const throttled = summary.workloads[0]!.scopes.find((s) => s.phase === 'throttled')!;
    expect(open.goodput_bps).toEqual({ up: 1e6, down: 0, both: 1e6 });
    expect(throttled.goodput_bps!.up).toBe(80_000);
    expect([open.opened, throttled.opened]).toEqual([1, 0]);
    expect(open.tcp_handshake).toMatchObject({ count: 1, p50: expect.closeTo(40 * MS, -3) });
    expect(open.tls_handshake.p50).toBeCloseTo(100 * MS, -3);
    expect(throttled.tcp_handshake.count).toBe(0);
    expect([open.stalls, throttled.stalls]).toEqual([0, 1]);
    expect(throttled.resets).toEqual({ client: 0, server: 1, lab: 0 });
    expect(open.rtt_mean_ns).toBe(30 * MS);
    expect(summary.classes[0]!.scopes.at(-1)!.opened).toBe(1);
    expect(summary.unattributed.scopes.at(-1)!.opened).toBe(0);
  });

  it('answers flow expectations, and none for flows nobody saw', () => {
    const e = (text: string, metric: string, value: number, phase: string | null) =>
      ({
        text,
        workload: 'app',
        metric,
        op: '<',
        value,
        kind: 'rate',
        phase,
      }) as CompiledExpectation;
    const got = checkExpectations(
      [
        e('app.flows.goodput < 150kbit during throttled', 'flows.goodput', 150e3, 'throttled'),
        e('app.flows.goodput < 150kbit during open', 'flows.goodput', 150e3, 'open'),
        e('app.stalls < 1', 'stalls', 1, null),
        e('ghost.stalls < 1', 'stalls', 1, null),
      ].map((x, i) => (i === 3 ? { ...x, workload: 'ghost' } : x)),
      [],
      summary,
    );
    expect(got.map((r) => [r.outcome, r.measured])).toEqual([
      ['ok', 80_000],
      ['fail', 1e6],
      ['fail', 1],
      ['fail', null],
    ]);
    expect(measureFlow('tls.p50', summary.workloads[0]!.scopes[0])).toBeCloseTo(100 * MS, -3);
  });

  it('stops at the end of observation', () => {
    const cut = summarizeFlows({
      lines,
      phases,
      observedEnd: 7 * S,
      workloads: [app],
      classes: [],
    });
    const throttled = cut.workloads[0]!.scopes.find((s) => s.phase === 'throttled')!;
    // Samples of (5, 6] and (6, 7] s: 20 kB over the 2 s observed.
    expect(throttled.goodput_bps!.up).toBe(80_000);
    expect(throttled.goodput_bytes.up).toBe(20_000);
  });

  it('compare lists the flow metrics of both runs, B - A', () => {
    const run = (flows: typeof summary): RunSummary =>
      ({
        scenario: 's',
        status: 'completed',
        observed_ns: 10 * S,
        duration_ns: 10 * S,
        workloads: [],
        flows,
      }) as unknown as RunSummary;
    const slower = structuredClone(summary);
    slower.workloads[0]!.scopes.find((x) => x.phase === 'throttled')!.goodput_bps!.both = 40_000;
    const c = compareSummaries(run(summary), run(slower));
    const row = c.rows.find(
      (r) => r.workload === 'app' && r.phase === 'throttled' && r.metric === 'flows.goodput',
    )!;
    expect(row).toMatchObject({ a: 80_000, b: 40_000, delta: -40_000, ratio: 0.5 });
    expect(c.rows.some((r) => r.metric === 'tcp.handshake.p50' && r.phase === 'open')).toBe(true);
  });

  it('the report draws the busiest flows and lists them', () => {
    const charts = flowCharts(lines, 10 * S);
    expect(charts.map((c) => c.id)).toEqual(['flow-goodput', 'flow-rtt']);
    expect(charts[0]!.series[0]!.label).toBe('#1 app tcp 5222');
    // 125 kB in the first second: 1000 kbit/s.
    expect(charts[0]!.series[0]!.values[0]).toBeCloseTo(1000, 0);
    const html = flowsSection(summary, lines, charts);
    expect(html).toMatch(/<td>app <span class="note">workload<\/span><\/td><td>throttled<\/td>/);
    expect(html).toMatch(/#1 app/);
    expect(flowsSection(undefined, undefined, [])).toMatch(/no flows.ndjson/);
  });
});
