/**
 * The report's flows section: what the core metered of every flow (flows.ndjson), per
 * workload, class and phase (the summary's `flows`), the busiest flows' goodput and RTT
 * over time with the phases as bands, and a table of the flows with their handshakes,
 * who reset them and what the lab dropped of them, by reason.
 */
import type { FlowEndLine, FlowLine, FlowSampleLine, FlowsSummary } from '../record/flows.js';
import { flowScopeCells, fmtDuration, fmtRatio } from '../record/format.js';
import { GOODPUT_FLOOR_KBPS } from './charts/overview.js';
import { niceStep } from './charts/sample.js';
import type { ChartSpec, SeriesSpec } from './charts/spec.js';
import { esc } from './markup.js';

/** Flows drawn one by one; the rest are one line. */
const DRAWN = 8;
/** Flows listed in the table at most (the busiest). */
const LISTED = 200;

interface Flow {
  id: number;
  label: string;
  bytes: number;
  samples: FlowSampleLine[];
  end?: FlowEndLine;
}

function flowsOf(lines: FlowLine[]): Flow[] {
  const byId = new Map<number, Flow>();
  const get = (id: number) => {
    let f = byId.get(id);
    if (f === undefined) byId.set(id, (f = { id, label: `#${id}`, bytes: 0, samples: [] }));
    return f;
  };
  for (const l of lines) {
    const f = get(l.id);
    if (l.ev === 'sample') {
      f.samples.push(l);
      f.bytes += l.up.goodput_bytes + l.down.goodput_bytes;
    } else {
      f.label = `#${l.id} ${l.workload ?? l.host ?? '?'} ${l.proto} ${l.server_port}`;
      if (l.ev === 'flow') f.end = l;
    }
  }
  return [...byId.values()].sort((a, b) => b.bytes - a.bytes || a.id - b.id);
}

/** Seconds of bins over the covered time, and which bin a sample falls in (its midpoint). */
function bins(coveredNs: number) {
  const end = Math.max(coveredNs, 1e6) / 1e9;
  // Samples span about a second each: a narrower bin would hold a whole one and double it.
  const step = Math.max(1, niceStep(end, 30));
  const n = Math.max(1, Math.ceil(end / step - 1e-9));
  const width = (i: number) => Math.min(step, end - i * step);
  const of = (s: FlowSampleLine) =>
    Math.min(n - 1, Math.max(0, Math.floor((s.from + s.t) / 2 / 1e9 / step)));
  return { end, step, n, width, of, x: [...Array(n).keys()].map((i) => i * step + width(i) / 2) };
}

function timeChart(
  id: string,
  title: string,
  yLabel: string,
  yLog: boolean,
  end: number,
): Omit<ChartSpec, 'x' | 'series'> {
  return {
    id,
    title,
    xLabel: 'time (s)',
    xTime: true,
    xLog: false,
    xRange: [0, end],
    yLabel,
    yLog,
    yRange: null,
  };
}

/** Goodput (both directions) and mean RTT per bin of the busiest flows; none without flows. */
export function flowCharts(lines: FlowLine[] | undefined, coveredNs: number): ChartSpec[] {
  const flows = flowsOf(lines ?? []).filter((f) => f.samples.length > 0);
  if (flows.length === 0) return [];
  const b = bins(coveredNs);
  const groups: { label: string; samples: FlowSampleLine[] }[] = flows.slice(0, DRAWN);
  if (flows.length > DRAWN) {
    groups.push({
      label: `${flows.length - DRAWN} other flows`,
      samples: flows.slice(DRAWN).flatMap((f) => f.samples),
    });
  }
  const goodput = groups.map((g): SeriesSpec => {
    const bytes = new Array<number>(b.n).fill(0);
    for (const s of g.samples) bytes[b.of(s)]! += s.up.goodput_bytes + s.down.goodput_bytes;
    return {
      label: g.label,
      values: bytes.map((v, i) => Math.max(GOODPUT_FLOOR_KBPS, (v * 8) / b.width(i) / 1e3)),
      style: 'line',
    };
  });
  const rtt = groups.map((g): SeriesSpec => {
    const sum = new Array<number>(b.n).fill(0);
    const n = new Array<number>(b.n).fill(0);
    for (const s of g.samples) {
      sum[b.of(s)]! += s.up.rtt_sum_ns + s.down.rtt_sum_ns;
      n[b.of(s)]! += s.up.rtt_n + s.down.rtt_n;
    }
    return {
      label: g.label,
      values: sum.map((v, i) => (n[i]! > 0 ? v / n[i]! / 1e6 : null)),
      style: 'line',
    };
  });
  return [
    {
      ...timeChart(
        'flow-goodput',
        `Goodput of the busiest flows, both directions (${b.step} s bins)`,
        'goodput (kbit/s)',
        true,
        b.end,
      ),
      x: b.x,
      series: goodput,
    },
    {
      ...timeChart(
        'flow-rtt',
        'RTT of the busiest TCP flows as their senders live it (mean per bin)',
        'RTT (ms)',
        false,
        b.end,
      ),
      x: b.x,
      series: rtt.filter((s) => s.values.some((v) => v !== null)),
    },
  ];
}

const num = (s: string) => `<td class="num">${esc(s)}</td>`;

function groupsTable(summary: FlowsSummary): string {
  const groups = [
    ...summary.workloads.map((g) => ({ kind: 'workload', ...g })),
    ...summary.classes.map((g) => ({ kind: 'class', ...g })),
    { kind: 'other', ...summary.unattributed, name: '(no workload)' },
  ].filter((g) => g.scopes.some((s) => s.opened > 0));
  if (groups.length === 0) return '<p class="note">no flow was seen</p>';
  const head = [
    'flows of',
    'phase',
    'opened',
    'goodput up',
    'goodput down',
    'TCP handshake p50',
    'TLS p50',
    'RTT',
    'retrans.',
    'stalls',
    'resets c/s/lab',
    'RTP loss',
    'drops',
  ];
  const rows = groups.flatMap((g) =>
    g.scopes.map((s) => {
      const drops =
        Object.entries(s.drops)
          .map(([r, n]) => `${r} ${n}`)
          .join(', ') || '0';
      return `<tr><td>${esc(g.name)} <span class="note">${g.kind}</span></td><td>${esc(s.phase ?? '(all)')}</td>${[
        ...flowScopeCells(s),
        `${s.resets.client}/${s.resets.server}/${s.resets.lab}`,
        s.rtp === null ? '-' : fmtRatio(s.rtp.loss),
      ]
        .map(num)
        .join('')}<td>${esc(drops)}</td></tr>`;
    }),
  );
  return `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.join('')}</table>`;
}

function flowTable(lines: FlowLine[]): string {
  const flows = flowsOf(lines).filter((f) => f.end !== undefined);
  if (flows.length === 0) return '';
  const head = [
    'flow',
    'from',
    'to',
    'classes',
    'policies',
    'opened (s)',
    'TCP handshake',
    'TLS',
    'bytes up/down',
    'retrans.',
    'stalls',
    'reset by',
    'drops',
  ];
  const rows = flows.slice(0, LISTED).map(({ end: e }) => {
    const f = e!;
    const reset = [
      f.up.rst_ns != null ? 'client' : '',
      f.down.rst_ns != null ? 'server' : '',
      f.tcp?.lab_rst_ns != null ? 'qoslab' : '',
    ]
      .filter(Boolean)
      .join(', ');
    const drops = (['up', 'down'] as const)
      .flatMap((d) => Object.entries(f[d].drops).map(([r, n]) => `${d} ${r} ${n}`))
      .join(', ');
    const tls = f.tls?.app_data_ns != null ? f.tls.app_data_ns - f.tls.client_hello_ns : null;
    return `<tr><td>#${f.id} ${esc(f.workload ?? f.workloads.join('+') ?? '')}</td><td>${esc(f.client)}:${f.client_port}</td><td>${esc(f.server)}:${f.server_port} ${esc(String(f.proto))}</td><td>${esc(f.classes.join(', '))}</td><td>${esc(f.policies.join(', '))}</td>${[
      (f.first_ns / 1e9).toFixed(2),
      fmtDuration(f.tcp?.handshake_ns),
      fmtDuration(tls),
      `${f.up.goodput_bytes}/${f.down.goodput_bytes}`,
      String((f.up.retransmits ?? 0) + (f.down.retransmits ?? 0)),
      String((f.up.stalls ?? 0) + (f.down.stalls ?? 0)),
    ]
      .map(num)
      .join('')}<td>${esc(reset || '-')}</td><td>${esc(drops || '-')}</td></tr>`;
  });
  const more =
    flows.length > LISTED
      ? `<p class="note">the ${LISTED} busiest of ${flows.length} flows</p>`
      : '';
  return `<h3>Flows</h3><div class="scroll"><table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.join('')}</table></div>${more}`;
}

/** The section; a run without flows.ndjson (an older run) says so. */
export function flowsSection(
  summary: FlowsSummary | undefined,
  lines: FlowLine[] | undefined,
  charts: ChartSpec[],
): string {
  if (summary === undefined || lines === undefined) {
    return '<p class="note">this run has no flows.ndjson (made before qoslab metered flows)</p>';
  }
  const drawn = charts.map((c) => `<div class="chart" id="${esc(c.id)}"></div>`).join('');
  return `<p class="note">Every flow that crossed the lab, measured from its packets by the core (whatever program sent them): goodput is payload delivered, handshakes and RTT are as each end lives them, drops are the lab's.</p>
<div class="scroll">${groupsTable(summary)}</div>
<div class="grid">${drawn}</div>
${flowTable(lines)}`;
}
