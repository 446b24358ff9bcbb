import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareSummaries, compareTable, fmtDelta } from '../../src/report/compare.js';
import { CSV_COLUMNS, summaryCsv } from '../../src/report/csv.js';
import { datapathView } from '../../src/report/datapath.js';
import { pooled } from '../../src/metrics/summarize.js';
import { summaryTable } from '../../src/record/format.js';
import { renderHtml } from '../../src/report/html.js';
import { loadRun } from '../../src/report/load.js';
import { metricsTable } from '../../src/report/results.js';
import type { RunSummary } from '../../src/record/summary.js';
import { RUN_BASIC, copyOfRun } from './helpers.js';

const run = loadRun(RUN_BASIC);

/** The fixture's summary with one workload's numbers changed, as a second run. */
function changed(f: (s: RunSummary) => void): RunSummary {
  const s = structuredClone(run.summary);
  f(s);
  return s;
}

describe('loadRun', () => {
  it('recomputes the summary the run wrote, from events.ndjson', () => {
    const written = JSON.parse(readFileSync(join(RUN_BASIC, 'summary.json'), 'utf8')) as RunSummary;
    expect(run.summary).toEqual(written);
    expect(run.description).toMatch(/^A chat, a call and a download/);
  });

  it('rejects what is not a run directory with a usage error (exit 2)', () => {
    expect(() => loadRun('/nonexistent/run')).toThrow(
      expect.objectContaining({ exitCode: 2, message: "'/nonexistent/run' is not a directory" }),
    );
    expect(() => loadRun(join(RUN_BASIC, '..'))).toThrow(
      /is not a qoslab run directory \(no compiled\.json, events\.ndjson\)/,
    );
  });
});

describe('counts as judged, bulk as it ran', () => {
  it('the table shows sent, judged and delivered of judged', () => {
    // A bulk download with a long deadline: the transfers of its last seconds are sent
    // but never judged. The table said "sent 2,776, delivered 100 %" where 1,838 had been.
    const stats = changed((s) => {
      const both = pooled(
        s.workloads.find((w) => w.name === 'bulk')!,
        null,
      )!.both;
      both.counted = 300;
      both.delivered = 300;
    }).workloads;
    const table = summaryTable(stats).split('\n');
    expect(table[0]).toMatch(/^WORKLOAD +PHASE +SENT +JUDGED +DELIVERED +P50/);
    expect(table.find((l) => /^bulk +\(all\)/.test(l))).toMatch(/^bulk +\(all\) +334 +300 +100%/);
    expect(metricsTable(run.summary.workloads)).toContain('>judged</th>');
  });

  it('the report describes back-to-back transfers as such, not as the default interval', () => {
    const html = renderHtml(run);
    const bulk = pooled(
      run.summary.workloads.find((w) => w.name === 'bulk')!,
      null,
    )!.both;
    expect(html).toContain(`transfers back to back: ${bulk.sent} sent`);
    expect(html).toContain('every 100.0 ms');
    // And how the paced ones kept their plan, beside the instrument's own stalls.
    expect(html).toContain('<h2>The instrument itself</h2>');
    expect(html).toMatch(
      /<td>ws<\/td><td>\(all\)<\/td><td class="num">80<\/td><td class="num">80<\/td>/,
    );
  });
});

describe('compiled.json and summary.json that are not what a run writes', () => {
  /** A copy of the fixture run with `file` (JSON) passed through `f`. */
  function withJson(file: string, f: (v: Record<string, unknown>) => unknown): string {
    const dir = copyOfRun();
    const path = join(dir, file);
    writeFileSync(path, JSON.stringify(f(JSON.parse(readFileSync(path, 'utf8')))));
    return dir;
  }

  it('refuses a compiled.json whose deadlines were removed, naming where', () => {
    // Recomputed from it, delivery read 0 % where the run had measured 100 %.
    const dir = withJson('compiled.json', (c) => ({
      ...c,
      workloads: (c.workloads as Record<string, unknown>[]).map(({ deadline_ns: _, ...w }) => w),
    }));
    expect(() => loadRun(dir)).toThrow(
      expect.objectContaining({
        exitCode: 2,
        message: expect.stringMatching(
          /compiled\.json is not a compiled qoslab scenario: workloads\[0\]\.deadline_ns: missing; expected number; workloads\[1\]\.deadline_ns: missing/,
        ),
      }),
    );
  });

  it('refuses workloads: [{}] and an expectation about no workload', () => {
    expect(() => loadRun(withJson('compiled.json', (c) => ({ ...c, workloads: [{}] })))).toThrow(
      /workloads\[0\]\.name: missing; expected string/,
    );
    const stray = withJson('compiled.json', (c) => ({
      ...c,
      expect: (c.expect as Record<string, unknown>[]).map((e) => ({ ...e, workload: 'nope' })),
    }));
    expect(() => loadRun(stray)).toThrow(
      /expect\[0\]\.workload: names no workload of this file \('nope'\)/,
    );
  });

  it('refuses a damaged summary.json instead of taking the run for killed', () => {
    // Unreadable, it was read as "no summary": report called the run killed and rewrote it.
    const dir = copyOfRun();
    writeFileSync(join(dir, 'summary.json'), '{"format": 1, "status": "comp');
    expect(() => loadRun(dir)).toThrow(/summary\.json' is not valid JSON/);
    const typed = withJson('summary.json', (s) => ({ ...s, observed_ns: -5 }));
    expect(() => loadRun(typed)).toThrow(
      /summary\.json is not a qoslab run summary: observed_ns: expected at least 0, found -5/,
    );
  });
});

describe('events.ndjson that is not what a run writes', () => {
  /** A copy of the fixture run with events.ndjson's lines passed through `f`. */
  function withEvents(f: (lines: string[]) => string[]): string {
    const dir = copyOfRun();
    const path = join(dir, 'events.ndjson');
    writeFileSync(path, f(readFileSync(path, 'utf8').trimEnd().split('\n')).join('\n'));
    return dir;
  }
  const firstWsRecv = (lines: string[]) =>
    lines.findIndex((l) => l.startsWith('{"ev":"recv","w":"ws"'));

  it('skips a torn last line: a killed run ends in half a line', () => {
    const dir = withEvents((lines) => [...lines, '{"ev":"recv","w":"ws","dir":"up","c":0,"se']);
    // Killed: only the summary written at the start, status running.
    const summary = join(dir, 'summary.json');
    const started = JSON.parse(readFileSync(summary, 'utf8')) as RunSummary;
    writeFileSync(summary, JSON.stringify({ ...started, status: 'running' }));
    const s = loadRun(dir).summary;
    expect(s.status).toBe('failed');
    expect(s.workloads.map((w) => w.name)).toEqual(['ws', 'h2', 'voice', 'bulk']);
  });

  it('refuses a finished run whose events.ndjson was cut: its receipts would read as lost', () => {
    // Cut mid-line at 90 % (an artifact upload or copy stopped early): report rewrote the
    // completed run's summary.json with ws 68 sent and 27.2 kbit/s instead of 80 and 32,
    // voice 53.1 instead of 64 kbit/s: the last second's events gone, over the full time.
    const at = { line: 0 };
    const dir = withEvents((lines) => {
      at.line = Math.floor(lines.length * 0.9);
      return [...lines.slice(0, at.line), lines[at.line]!.slice(0, 20)];
    });
    expect(() => loadRun(dir)).toThrow(
      `events.ndjson:${at.line + 1}: half a line at the end, but the run finished (summary.json: completed)`,
    );
  });

  it('rejects a damaged line before the last, naming it, instead of counting its message lost', () => {
    // Skipped, a torn ws receipt made the message lost: delivery 100% read 99.x%.
    const at = { line: 0 };
    const dir = withEvents((lines) => {
      at.line = firstWsRecv(lines);
      return lines.map((l, i) => (i === at.line ? l.slice(0, 30) : l));
    });
    expect(() => loadRun(dir)).toThrow(
      expect.objectContaining({
        exitCode: 2,
        message: expect.stringMatching(
          new RegExp(`events\\.ndjson:${at.line + 1}: not a JSON object$`),
        ) as unknown,
      }),
    );
  });

  it('counts an event written twice once', () => {
    // Every line twice: ws read 160 sent and 64 kbit/s instead of 80 and 32, each
    // workload's goodput doubled and its connections counted twice.
    const dir = withEvents((lines) => lines.flatMap((l) => [l, l]));
    expect(loadRun(dir).summary.workloads).toEqual(run.summary.workloads);
  });

  it('rejects an event with a field of the wrong type, naming the line and the field', () => {
    // Computed with, bytes "200" made ws goodput 8e236 bit/s, sent "x" every latency NaN.
    const cases: [RegExp, string, string][] = [
      [/"bytes":200}/, '"bytes":"200"}', 'recv event: bytes "200" is not a finite number'],
      [/"sent":\d+/, '"sent":"x"', 'recv event: sent "x" is not a finite number'],
      [/"t":\d+/, '"t":1e400', 'recv event: t Infinity is not a finite number'],
      [/"ev":"recv"/, '"ev":"recieve"', 'not a measurement event (ev "recieve")'],
      [/,"seq":\d+/, '', 'recv event without seq'],
    ];
    for (const [from, to, why] of cases) {
      const at = { line: 0 };
      const dir = withEvents((lines) => {
        at.line = firstWsRecv(lines);
        return lines.map((l, i) => (i === at.line ? l.replace(from, to) : l));
      });
      expect(() => loadRun(dir)).toThrow(`events.ndjson:${at.line + 1}: ${why}`);
    }
  });

  it('rejects a line that is JSON but not an event object', () => {
    const dir = withEvents((lines) => [lines[0]!, 'null', ...lines.slice(1)]);
    // Named by its line, never quoted: a run folder's file may be a copy of anything.
    expect(() => loadRun(dir)).toThrow(/events\.ndjson:2: not a JSON object$/);
  });
});

describe('compare', () => {
  it('a run against itself: every delta zero, every ratio 1', () => {
    const c = compareSummaries(run.summary, run.summary);
    expect(c.rows.length).toBeGreaterThan(0);
    for (const r of c.rows) {
      expect(r.delta).toBe(0);
      if (r.a !== 0) expect(r.ratio).toBe(1);
    }
    // MOS only where there is voice; every workload has its phases and the whole run.
    expect(new Set(c.rows.filter((r) => r.metric === 'mos').map((r) => r.workload))).toEqual(
      new Set(['voice']),
    );
    expect([...new Set(c.rows.filter((r) => r.workload === 'ws').map((r) => r.phase))]).toEqual([
      'baseline',
      'later',
      null,
    ]);
  });

  it('deltas are B − A per workload × phase, in the metric unit', () => {
    const b = changed((s) => {
      const ws = s.workloads.find((w) => w.name === 'ws')!;
      const later = ws.scopes.find((x) => x.phase === 'later')!;
      const both = later.directions.find((d) => d.dir === 'both')!;
      both.delivery = 0.75;
      both.latency.p95 = 250e6;
      later.reconnects = 3;
    });
    const c = compareSummaries(run.summary, b, { a: 'base', b: 'throttled' });
    const row = (metric: string) =>
      c.rows.find((r) => r.workload === 'ws' && r.phase === 'later' && r.metric === metric)!;
    const a = run.summary.workloads[0]!.scopes.find((x) => x.phase === 'later')!;
    const aBoth = a.directions.find((d) => d.dir === 'both')!;
    expect(row('delivery')).toMatchObject({ a: 1, b: 0.75, delta: -0.25, ratio: 0.75 });
    expect(row('latency.p95').delta).toBe(250e6 - aBoth.latency.p95!);
    expect(row('reconnects')).toMatchObject({ a: 0, b: 3, delta: 3, ratio: null });
    // Loss of a non-voice workload is 1 − delivery; everything else is unchanged.
    expect(row('loss')).toMatchObject({ a: 0, b: 0.25, delta: 0.25 });
    expect(c.rows.filter((r) => r.delta !== 0 && r.delta !== null)).toHaveLength(4);

    const text = compareTable(c);
    expect(text).toMatch(/^A: base \(report-basic\)\nB: throttled \(report-basic\)/);
    expect(text).toMatch(/ws +later +delivery +100% +75\.0% +-25\.0 pp +0\.75x/);
    expect(text).toMatch(/ws +later +reconnects +0 +3 +\+3 +-/);
  });

  it('says which run did not run to its end', () => {
    // An interrupted or killed run's rows are of the part it observed: without a word,
    // its 0 failures and fewer sends read as a whole run's against the other.
    const b = changed((s) => {
      s.status = 'interrupted';
      s.observed_ns = 2.5e9;
    });
    const c = compareSummaries(run.summary, b, { a: 'base', b: 'cut' });
    expect(c.b).toMatchObject({ status: 'interrupted', observed_ns: 2.5e9 });
    expect(compareTable(c)).toMatch(
      /^A: base \(report-basic\)\nB: cut \(report-basic; interrupted, observed 2\.50 s of 4\.00 s\)\n/,
    );
  });

  it('a workload only one run has shows as missing on the other side', () => {
    const b = changed((s) => {
      s.workloads = s.workloads.filter((w) => w.name !== 'h2');
    });
    const c = compareSummaries(run.summary, b);
    const h2 = c.rows.filter((r) => r.workload === 'h2');
    expect(h2.length).toBeGreaterThan(0);
    expect(h2.every((r) => r.b === null && r.delta === null && r.a !== null)).toBe(true);
  });

  it('formats deltas with a sign and the unit', () => {
    expect(fmtDelta('ratio', -0.125)).toBe('-12.5 pp');
    expect(fmtDelta('duration', 1.5e9)).toBe('+1.50 s');
    expect(fmtDelta('rate', -64e3)).toBe('-64.0 kbit/s');
    expect(fmtDelta('score', 0)).toBe('±0.00');
    expect(fmtDelta('count', null)).toBe('-');
  });
});

describe('csv', () => {
  const csv = summaryCsv(run.summary);
  const lines = csv.trimEnd().split('\r\n');
  const rows = lines.slice(1).map((l) => l.split(','));
  const col = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);

  it('has one row per workload × phase × direction', () => {
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    const expected = run.summary.workloads.reduce(
      (n, w) => n + w.scopes.reduce((m, s) => m + s.directions.length, 0),
      0,
    );
    expect(rows).toHaveLength(expected);
    expect(rows.every((r) => r.length === CSV_COLUMNS.length)).toBe(true);
    // bulk is down only: its rows are down and both.
    expect(
      rows
        .filter((r) => r[col('workload')] === 'bulk')
        .map((r) => [r[col('phase')], r[col('direction')]]),
    ).toEqual([
      ['baseline', 'down'],
      ['baseline', 'both'],
      ['later', 'down'],
      ['later', 'both'],
      ['all', 'down'],
      ['all', 'both'],
    ]);
  });

  it('carries the summary numbers in the units its header names', () => {
    const ws = run.summary.workloads.find((w) => w.name === 'ws')!;
    const all = ws.scopes.find((s) => s.phase === null)!;
    const both = all.directions.find((d) => d.dir === 'both')!;
    const row = rows.find(
      (r) =>
        r[col('workload')] === 'ws' && r[col('phase')] === 'all' && r[col('direction')] === 'both',
    )!;
    expect(Number(row[col('sent')])).toBe(both.sent);
    expect(Number(row[col('delivery')])).toBe(both.delivery);
    expect(Number(row[col('latency_p99_ms')])).toBeCloseTo(both.latency.p99! / 1e6, 3);
    expect(Number(row[col('goodput_bps')])).toBe(Math.round(both.goodput_bps!));
    expect(row[col('mos')]).toBe('');
    const voice = rows.find(
      (r) =>
        r[col('workload')] === 'voice' &&
        r[col('phase')] === 'all' &&
        r[col('direction')] === 'both',
    )!;
    expect(Number(voice[col('mos')])).toBeGreaterThan(4);
  });

  it('quotes fields that need it', () => {
    const s = changed((x) => {
      x.scenario = 'a, "b"';
    });
    expect(summaryCsv(s).split('\r\n')[1]).toMatch(/^"a, ""b""",ws,websocket,/);
  });
});

describe('datapath counters', () => {
  const phases = run.summary.phases;

  it('splits the forwarder counters by phase at the nearest snapshots', () => {
    const v = datapathView(run.datapath, phases);
    // Every run loads its scenario into the core, so shaping counters exist (no classes here).
    expect(v.shaping).toBe(true);
    expect(v.classes).toEqual([]);
    const up = v.stages.filter((s) => s.kind === 'forwarder' && s.name === 'up');
    expect(up.map((s) => s.phase)).toEqual(['baseline', 'later', null]);
    expect(up[0]!.packets + up[1]!.packets).toBe(up[2]!.packets);
  });

  it('has no counters for a phase no snapshot saw (a run killed before it)', () => {
    // Killed at 1.5 s: 'later' (from 2 s) read 0 packets and 0 drops in the report.
    const killed = run.datapath.filter((s) => s.t <= 1.5e9);
    const up = datapathView(killed, phases).stages.filter(
      (s) => s.kind === 'forwarder' && s.name === 'up',
    );
    expect(up.map((s) => s.phase)).toEqual(['baseline', null]);
    expect(up[0]!.packets).toBe(up[1]!.packets);
    expect(up[0]!.packets).toBeGreaterThan(0);
  });

  it('shows drops by reason per policy, action, link and the classes when the core shapes', () => {
    const stage = (packets: number, police: number) => ({
      packets,
      bytes: packets * 100,
      drops: { loss: 0, police },
      queue_delay_us_log2: [],
    });
    const shaping = (k: number) => ({
      classes: { whatsapp: { flows: k, packets: 10 * k, bytes: 1000 * k } },
      policies: { 'wa-throttle': stage(10 * k, 4 * k) },
      actions: [{ policy: 'wa-throttle', index: 0, type: 'police', ...stage(10 * k, 4 * k) }],
      links: { uplink: stage(20 * k, 0), downlink: stage(30 * k, 0) },
    });
    const fwd = { packets: 1, bytes: 1, drops: {} };
    const samples = [
      { t: 1.9e9, up: fwd, down: fwd, shaping: shaping(1) },
      { t: 4.1e9, up: fwd, down: fwd, shaping: shaping(3) },
    ];
    const v = datapathView(samples, phases);
    expect(v.shaping).toBe(true);
    expect(v.classes).toEqual([{ name: 'whatsapp', flows: 3, packets: 30, bytes: 3000 }]);
    const policy = v.stages.filter((s) => s.kind === 'policy');
    expect(policy.map((s) => [s.name, s.phase, s.drops.police])).toEqual([
      ['wa-throttle', 'baseline', 4],
      ['wa-throttle', 'later', 8],
      ['wa-throttle', null, 12],
    ]);
    expect(v.stages.find((s) => s.kind === 'action')!.name).toBe('wa-throttle #1 police');
    expect(
      v.stages.filter((s) => s.kind === 'link' && s.phase === null).map((s) => s.name),
    ).toEqual(['uplink', 'downlink']);
  });

  it('ignores counters of an unexpected shape', () => {
    const v = datapathView([{ t: 1e9, up: 'x', shaping: { policies: [1], actions: {} } }], phases);
    expect(v.stages).toEqual([]);
  });
});
