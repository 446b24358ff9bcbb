/** The report page: one self-contained HTML file (styles, uPlot, data and renderer inlined). */
import type { RecvEvent } from '../record/events.js';
import { pooled } from '../metrics/summarize.js';
import { failureText, fmtDuration, verdictText } from '../record/format.js';
import { uplotAssets } from './assets.js';
import { renderCharts } from './charts/client.js';
import { deliveryPerPhase, goodputOverTime, mosPerPhase } from './charts/overview.js';
import type { ChartData, ChartSpec } from './charts/spec.js';
import { latencyCdf, latencyOverTime } from './charts/workload.js';
import { datapathRate, datapathView } from './datapath.js';
import { flowCharts, flowsSection } from './flows.js';
import type { LoadedRun } from './load.js';
import { esc, scriptJson, scriptText } from './markup.js';
import {
  datapathSection,
  envSection,
  expectationsSection,
  metricsTable,
  usersTable,
} from './results.js';
import { citationsSection } from './citations.js';
import { instrumentSection } from './instrument.js';
import { scenarioSection } from './scenario.js';

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0; color: #222; background: #fafafa; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; }
h3 { font-size: 15px; margin: 18px 0 6px; }
table { border-collapse: collapse; margin: 4px 0 12px; font-size: 13px; background: #fff; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.note { color: #666; font-size: 13px; } .pass { color: #177a2f; font-weight: 600; } .fail { color: #c0262d; font-weight: 600; }
.chart { background: #fff; border: 1px solid #e4e4e4; margin: 8px 0 16px; padding: 4px; min-height: 100px; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0 16px; } .grid .chart { min-width: 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; }
.scroll { overflow-x: auto; } nav a { margin-right: 12px; }
@media (max-width: 900px) { .grid { grid-template-columns: 1fr; } }
`;

export function reportCharts(run: LoadedRun): { charts: ChartSpec[]; hasDatapathChart: boolean } {
  const { compiled, summary } = run;
  const recvs = run.events.filter((e): e is RecvEvent => e.ev === 'recv');
  const charts: ChartSpec[] = [];
  compiled.workloads.forEach((w, i) => {
    const mine = recvs.filter((r) => r.w === w.name);
    charts.push(latencyOverTime(`latency-${i}`, w.name, mine, compiled.duration_ns / 1e9));
    charts.push(latencyCdf(`cdf-${i}`, w.name, mine, summary.phases));
  });
  // The time the workloads ran: the planned length, or up to an interruption or a fault.
  const covered = Math.min(compiled.duration_ns, summary.observed_ns);
  charts.push(deliveryPerPhase(summary.workloads, summary.phases, covered));
  charts.push(goodputOverTime(compiled.workloads, recvs, covered));
  const mos = mosPerPhase(summary.workloads, summary.phases, covered);
  if (mos !== null) charts.push(mos);
  const rate = datapathRate(run.datapath, compiled.duration_ns);
  if (rate !== null) charts.push(rate);
  charts.push(...flowCharts(run.flows, covered));
  return { charts, hasDatapathChart: rate !== null };
}

export function renderHtml(run: LoadedRun): string {
  const { compiled, summary } = run;
  const { charts, hasDatapathChart } = reportCharts(run);
  const data: ChartData = {
    phases: summary.phases.map((p) => ({ name: p.name, start: p.start / 1e9, end: p.end / 1e9 })),
    charts,
  };
  const assets = uplotAssets();
  const badge = (colour: string, text: string) =>
    `<span class="badge" style="background:${colour}">${esc(text)}</span>`;
  // A run that judged nothing is no pass, even when allowed: it tested nothing.
  const status =
    summary.status !== 'completed'
      ? badge('#b26b00', summary.status)
      : (summary.resource_faults ?? []).length > 0
        ? badge('#c0262d', 'resource fault')
        : summary.unjudged === true
          ? badge('#b26b00', 'nothing judged')
          : summary.ok
            ? badge(
                '#177a2f',
                summary.expectations.length === 0 ? 'no expectations' : 'expectations held',
              )
            : badge('#c0262d', verdictText(summary));
  const workloads = compiled.workloads
    .map(
      (w, i) => `<h3>${esc(w.name)} <span class="note">${esc(w.protocol)}</span></h3>
<div class="grid"><div class="chart" id="latency-${i}"></div><div class="chart" id="cdf-${i}"></div></div>`,
    )
    .join('\n');
  const hasMos = charts.some((c) => c.id === 'mos');
  const sentOf = (name: string) => {
    const w = summary.workloads.find((x) => x.name === name);
    return w === undefined ? undefined : pooled(w, null)?.both.sent;
  };
  const users = usersTable(summary.workloads);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>qoslab report: ${esc(compiled.name)}</title>
<style>${assets.css}</style>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>qoslab report: ${esc(compiled.name)} ${status}</h1>
<p class="note">${esc(summary.started_at)} → ${esc(summary.finished_at)} · observed ${esc(fmtDuration(summary.observed_ns))} · lab ${esc(summary.lab_id || '-')} · qoslab ${esc(summary.qoslab)}</p>
${summary.error || summary.status === 'failed' || (summary.resource_faults ?? []).length > 0 ? `<p class="fail">error: ${esc(failureText(summary))}</p>` : ''}
${[...summary.warnings, ...(summary.notes ?? [])].map((w) => `<p class="note">warning: ${esc(w)}</p>`).join('\n')}
<nav><a href="#scenario">scenario</a><a href="#sources">sources</a><a href="#expectations">expectations</a>${users === '' ? '' : '<a href="#users">users</a>'}<a href="#overview">overview</a><a href="#workloads">workloads</a><a href="#metrics">metrics</a><a href="#flows">flows</a><a href="#instrument">instrument</a><a href="#datapath">datapath</a><a href="#environment">environment</a></nav>
<section id="expectations"><h2>Expectations</h2>${expectationsSection(summary.expectations)}</section>
${users === '' ? '' : `<section id="users"><h2>What users lived with</h2><p class="note">Per app and phase: the time a text took to arrive (p50, p95; resends included), the share that arrived in time, the share the app gave up on, the share of time it showed "connecting…" and the median outage; the median time a photo took; calls connected of those placed, their set-up time and MOS; the transports the app ended on.</p><div class="scroll">${users}</div></section>`}
<section id="overview">
<h2>Overview</h2>
<div class="grid"><div class="chart" id="delivery"></div><div class="chart" id="goodput"></div></div>
${hasMos ? '<div class="chart" id="mos"></div>' : '<p class="note">no voice workloads: no MOS</p>'}
</section>
<section id="workloads"><h2>Workloads</h2>
<p class="note">Dots: one message each, by its send time; lines: the share of a phase's messages at or under a latency.</p>
${workloads}
</section>
<section id="metrics"><h2>Metrics per workload and phase</h2><div class="scroll">${metricsTable(summary.workloads)}</div></section>
<section id="flows"><h2>Flows</h2>${flowsSection(
    summary.flows,
    run.flows,
    charts.filter((c) => c.id.startsWith('flow-')),
  )}</section>
<section id="instrument"><h2>The instrument itself</h2>${instrumentSection(summary)}</section>
<section id="datapath"><h2>Datapath counters</h2>${datapathSection(datapathView(run.datapath, summary.phases), hasDatapathChart)}</section>
${scenarioSection(compiled, run.description, sentOf)}
${citationsSection(run.scenarioText)}
<section id="environment"><h2>Environment</h2>${envSection(run.env)}</section>
</main>
<script>${scriptText(assets.js)}</script>
<script id="qoslab-data" type="application/json">${scriptJson(data)}</script>
<script>
(${scriptText(renderCharts.toString())})(uPlot, JSON.parse(document.getElementById('qoslab-data').textContent), document);
</script>
</body>
</html>
`;
}
