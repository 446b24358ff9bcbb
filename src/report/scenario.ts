/** The scenario part of the report: what was run, from compiled.json (every default filled in). */
import { fmtDuration, fmtRate } from '../record/format.js';
import type { CompiledConfig, CompiledLink, CompiledWorkload } from '../scenario/compiled.js';
import { traitsOf } from '../scenario/protocols/index.js';
import { esc, htmlTable } from './markup.js';

function fmtBytes(n: number | null): string {
  if (n === null) return '-';
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

/** Compiled keys carry their unit (`_ns`, `_bps`, `_bytes`): show them in people's units. */
export function fmtParams(params: object, skip: string[] = []): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (skip.includes(k) || v === null || (k === 'direction' && v === 'both')) continue;
    if (k.endsWith('_ns')) parts.push(`${k.slice(0, -3)} ${fmtDuration(v as number)}`);
    else if (k.endsWith('_bps')) parts.push(`${k.slice(0, -4)} ${fmtRate(v as number)}`);
    else if (k.endsWith('_bytes')) parts.push(`${k.slice(0, -6)} ${fmtBytes(v as number)}`);
    else if (Array.isArray(v)) parts.push(`${k} ${v.map((x) => JSON.stringify(x)).join(', ')}`);
    else parts.push(`${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  }
  return parts.join(', ');
}

function link(name: string, l: CompiledLink): string[] {
  return [
    name,
    l.trace_file !== null
      ? `trace ${l.trace_file}`
      : l.rate_bps === null
        ? 'unlimited'
        : fmtRate(l.rate_bps),
    fmtDuration(l.delay_ns),
    fmtDuration(l.jitter_ns),
    `${(l.loss * 100).toFixed(2)}%`,
    l.queue_bytes !== null
      ? fmtBytes(l.queue_bytes)
      : l.queue_packets !== null
        ? `${l.queue_packets} pkts`
        : '-',
    l.aqm,
  ];
}

/**
 * A workload's load as it ran: its interval or rate, or for one qoslab does not pace (bulk
 * downloads back to back) what it did and how much; a bulk workload read `every 1.00 s`,
 * the default interval it never used, where it had run some 185 transfers a second.
 */
function loadText(w: CompiledWorkload, sent: number | undefined): string {
  const unpaced = UNPACED[traitsOf(w.protocol)?.traffic ?? ''];
  if (unpaced !== undefined) return sent === undefined ? unpaced : `${unpaced}: ${sent} sent`;
  return w.interval_ns !== null ? `every ${fmtDuration(w.interval_ns)}` : fmtRate(w.rate_bps);
}

/** How the load of traffic qoslab does not pace reads (by the protocol's `traffic`). */
const UNPACED: Record<string, string> = {
  window: 'transfers back to back',
  rtp: 'media as the stack sends it',
};

/** `sentOf`: how many messages (transfers) a workload sent over the run, when known. */
export function scenarioSection(
  c: CompiledConfig,
  description: string | null,
  sentOf?: (workload: string) => number | undefined,
): string {
  const classes = htmlTable(
    ['class', 'matches any of'],
    c.classes.map((k) => [
      k.name,
      k.any_of
        .map((m) => fmtParams(m, ['inspect_packets', 'reassembly', 'initiator', 'stun']))
        .join(' | '),
    ]),
  );
  const policies = htmlTable(
    ['policy', 'applies to', 'actions, in order'],
    c.policies.map((p) => [
      p.name,
      [
        p.classes.length > 0 ? `classes ${p.classes.join(', ')}` : 'every flow',
        p.except_classes.length > 0 ? `except ${p.except_classes.join(', ')}` : '',
        p.proto ?? '',
        p.direction === 'both' ? '' : p.direction,
      ]
        .filter((s) => s !== '')
        .join(', '),
      {
        html: p.actions
          .map((a) => `<b>${esc(a.type)}</b> ${esc(fmtParams(a, ['type']))}`)
          .join('<br>'),
      },
    ]),
  );
  const timeline = htmlTable(
    ['at', 'phase', 'enable', 'disable', 'in force'],
    c.timeline.map((t) => [
      fmtDuration(t.at_ns),
      t.phase,
      t.enable.join(', '),
      t.disable.join(', '),
      t.active.join(', ') || '(none)',
    ]),
    5,
  );
  const workloads = htmlTable(
    [
      'workload',
      'protocol',
      'host',
      'port',
      'tls',
      'load',
      'size',
      'deadline',
      'direction',
      'conns',
      'active',
    ],
    c.workloads.map((w) => [
      w.name,
      w.protocol + (w.codec ? ` (${w.codec})` : ''),
      `${w.host} (${w.server_name})`,
      w.port,
      w.tls ? 'yes' : 'no',
      loadText(w, sentOf?.(w.name)),
      fmtBytes(w.size_bytes),
      fmtDuration(w.deadline_ns),
      w.direction,
      w.connections,
      `${fmtDuration(w.start_ns)} – ${fmtDuration(w.stop_ns)}`,
    ]),
    3,
  );
  const links = htmlTable(
    ['link', 'rate', 'delay', 'jitter', 'loss', 'queue', 'aqm'],
    [link('uplink', c.network.uplink), link('downlink', c.network.downlink)],
  );
  return `
<section id="scenario">
<h2>Scenario</h2>
<p><b>${esc(c.name)}</b>${description ? ` — ${esc(description)}` : ''}</p>
<p class="note">seed ${c.seed}, duration ${esc(fmtDuration(c.duration_ns))}, MTU ${c.network.mtu}, IPv6 ${c.network.ipv6 ? 'on' : 'off'}</p>
<h3>Workloads</h3>${workloads}
<h3>Network</h3>${links}
<h3>Classes</h3>${classes}
<h3>Policies</h3>${policies}
<h3>Timeline</h3>${c.timeline.length > 0 ? timeline : '<p class="note">no timeline: one phase, <code>main</code></p>'}
</section>`;
}
