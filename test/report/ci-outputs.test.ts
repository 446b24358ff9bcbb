import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { ciTargets } from '../../src/report/ci-outputs.js';
import { renderHtml } from '../../src/report/html.js';
import { junitXml } from '../../src/report/junit.js';
import { loadRun } from '../../src/report/load.js';
import { summaryMarkdown } from '../../src/report/summary-md.js';
import type { RunSummary } from '../../src/record/summary.js';
import { failedSummary } from '../../src/run/finish.js';
import { isRoot, qoslab } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { RUN_BASIC, copyOfRun } from './helpers.js';
import { junitSchemaViolations, list, type Node } from './junit-schema.js';

function parsed(xml: string) {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as {
    testsuites: { testsuite: Node & { testcase: Node | Node[] } };
  };
  return { suite: doc.testsuites.testsuite, cases: list(doc.testsuites.testsuite.testcase) };
}

const basic = (): RunSummary => loadRun(RUN_BASIC).summary;

describe('JUnit XML', () => {
  it('the fixture run: one case per expectation, the failure with its measured value', () => {
    const s = basic();
    const xml = junitXml(s, { hostname: 'ci-host', resultsDir: '/r/x' });
    expect(junitSchemaViolations(xml)).toEqual([]);
    const { suite, cases } = parsed(xml);
    expect(suite).toMatchObject({ tests: '4', failures: '1', errors: '0', skipped: '0' });
    expect(cases.map((c) => c.name)).toEqual([
      'run completed',
      'expectations judged',
      ...s.expectations.map((e) => e.text),
    ]);
    const failed = s.expectations.find((e) => !e.ok)!;
    const failure = cases.find((c) => c.name === failed.text)!.failure as Node;
    expect(failure.type).toBe('expectation');
    expect(String(failure.message)).toMatch(
      /^ws\.latency\.p95 < 1us during later: measured [\d.]+ ms$/,
    );
    // The body in the metric's unit, exact enough to tell a bound from a value just past it.
    expect(String(failure['#text'])).toBe(
      `measured ${Number((failed.measured! / 1e6).toPrecision(6))} ms; expected < 0.001 ms`,
    );
  });

  it('an expectation stated twice gets two test cases with distinct names', () => {
    const s = basic();
    s.expectations.push({ ...s.expectations[0]! });
    const { cases } = parsed(junitXml(s, { hostname: 'h' }));
    const names = cases.map((c) => String(c.name));
    expect(new Set(names).size).toBe(names.length);
    expect(names.at(-1)).toBe(`${s.expectations[0]!.text} (2)`);
  });

  it('a rate bound reads in kbit/s, not bit/s', () => {
    const s = basic();
    s.expectations = [
      {
        ...s.expectations[0]!,
        kind: 'rate',
        op: '>=',
        expected: 128000,
        measured: 96512,
        ok: false,
        outcome: 'fail',
      },
    ];
    // Cases: run completed, expectations judged, then the expectation.
    const failure = parsed(junitXml(s, { hostname: 'h' })).cases[2]!.failure as Node;
    expect(failure['#text']).toBe('measured 96.512 kbit/s; expected >= 128 kbit/s');
  });

  it('a metric with no data in a completed run fails, as the exit code says', () => {
    // The ws agent recorded nothing: delivery and latency have no data, the run exits 1.
    // Skipped cases here made a JUnit report with 0 failures and 0 errors: a green CI job.
    // The latency of an agent that sent nothing of its plan is its agent's, not the
    // network's: not measured, and said why.
    const dir = copyOfRun();
    const events = join(dir, 'events.ndjson');
    const lines = readFileSync(events, 'utf8').split('\n');
    writeFileSync(events, lines.filter((l) => !l.includes('"w":"ws"')).join('\n'));
    const s = loadRun(dir).summary;
    expect(s).toMatchObject({ status: 'completed', exit_code: 1, ok: false });
    expect(s.expectations.map((e) => [e.outcome, e.measured, e.cause])).toEqual([
      ['fail', null, null],
      [
        'not measured',
        null,
        'ws was agent-limited: its agents sent none of its 38 planned messages',
      ],
    ]);
    const xml = junitXml(s, { hostname: 'h' });
    expect(junitSchemaViolations(xml)).toEqual([]);
    const { suite, cases } = parsed(xml);
    expect(suite).toMatchObject({ tests: '4', failures: '1', errors: '0', skipped: '1' });
    expect(cases[2]!.failure).toMatchObject({
      message: 'ws.delivery >= 99%: nothing measured',
      type: 'expectation',
    });
    const md = summaryMarkdown(s);
    expect(md).toContain('1 expectation failed, 1 not measured');
    expect(md).toMatch(/^\| FAIL \| ws\.delivery >= 99% \| nothing measured \|$/m);
  });

  it('an expectation not measured is skipped, an interrupted run an error', () => {
    const s = basic();
    s.expectations[0] = {
      ...s.expectations[0]!,
      measured: null,
      ok: false,
      outcome: 'not measured',
    };
    s.status = 'interrupted';
    s.warnings = ['a <warning> & "quotes"'];
    const xml = junitXml(s, { hostname: 'h' });
    expect(junitSchemaViolations(xml)).toEqual([]);
    const { suite, cases } = parsed(xml);
    expect(suite).toMatchObject({ tests: '3', failures: '1', errors: '1', skipped: '1' });
    expect(cases[0]!.error).toMatchObject({ type: 'interrupted' });
    expect(cases[1]!).toHaveProperty('skipped');
    expect(suite['system-err']).toBe('a <warning> & "quotes"');
  });

  it('catches what breaks the schema (the checker itself can fail)', () => {
    const xml = junitXml(basic(), { hostname: 'h' });
    expect(
      junitSchemaViolations(
        xml.replace(/ timestamp="[^"]*"/, ' timestamp="2026-01-01T00:00:00.000Z"'),
      ),
    ).toContain("testsuite @timestamp '2026-01-01T00:00:00.000Z' is not ISO 8601 without zone");
    expect(junitSchemaViolations(xml.replace('<properties>', ''))).toHaveLength(1);
    expect(junitSchemaViolations(xml.replace(' tests="4"', ' tests="5"'))).toEqual([
      '@tests != number of testcases',
    ]);
  });
});

describe('a failed run and an expectation not reached', () => {
  it('name the dead agent, not an unknown error', () => {
    // An agent that died leaves error null and the fault in faults: both outputs said
    // "the run failed: unknown error".
    const s = basic();
    s.status = 'failed';
    s.exit_code = 4;
    s.faults = [
      {
        ev: 'agent',
        role: 'client',
        state: 'exited',
        t: 2.5e9,
        code: null,
        signal: 'SIGKILL',
        detail: 'the client agent was killed by SIGKILL',
      },
    ];
    const why = 'the client agent was killed by SIGKILL at 2.50 s';
    expect(parsed(junitXml(s, { hostname: 'h' })).cases[0]!.error).toMatchObject({
      message: `the run failed: ${why}`,
      type: 'failed',
    });
    expect(summaryMarkdown(s)).toContain(`failed: ${why} — seed`);
    // The HTML report said nothing at all beside its 'failed' badge.
    const run = loadRun(RUN_BASIC);
    expect(renderHtml({ ...run, summary: s })).toContain(`<p class="fail">error: ${why}</p>`);
  });

  it('a completed run with a phase it never reached says not reached, not not measured', () => {
    expect(summaryMarkdown(notReached(null))).toMatch(/^2 not reached — seed/m);
  });
});

/** The fixture run as if --duration had ended it before every phase it checks. */
function notReached(cause: string | null): RunSummary {
  const s = basic();
  s.expectations = s.expectations.map((e) => ({
    ...e,
    outcome: 'not reached',
    ok: false,
    measured: null,
    cause,
  }));
  return s;
}

describe('a run that judged nothing', () => {
  function unjudged(allow: boolean): RunSummary {
    const s = notReached("the run ended at 15 s, before phase 'later' (from 20 s)");
    s.unjudged = true;
    s.allow_unjudged = allow;
    s.ok = allow;
    s.exit_code = allow ? 0 : 5;
    return s;
  }

  it('is an error case in JUnit, a warning in Markdown, no green badge in the report', () => {
    const s = unjudged(false);
    const xml = junitXml(s, { hostname: 'h' });
    expect(junitSchemaViolations(xml)).toEqual([]);
    const { suite, cases } = parsed(xml);
    // Before: 0 failures, 0 errors, 2 skipped — a green CI job that tested nothing.
    expect(suite).toMatchObject({ tests: '4', failures: '0', errors: '1', skipped: '2' });
    expect(cases[1]).toMatchObject({
      name: 'expectations judged',
      error: {
        type: 'unjudged',
        message: 'nothing was judged: 2 not reached: the run tested nothing',
      },
    });
    expect(cases[2]!.skipped).toMatchObject({
      message: "not reached: the run ended at 15 s, before phase 'later' (from 20 s)",
    });
    const md = summaryMarkdown(s);
    expect(md).toMatch(
      /^### ⚠️ qoslab run: report-basic\n\nnothing was judged: 2 not reached — seed/,
    );
    expect(md).toContain('| not reached | ws.delivery >= 99% | not reached: the run ended at 15 s');
    const html = renderHtml({ ...loadRun(RUN_BASIC), summary: s });
    expect(html).toContain('>nothing judged</span>');
    expect(html).not.toContain('expectations held');
  });

  it('with --allow-unjudged: a skipped case, still no green', () => {
    const s = unjudged(true);
    const { suite, cases } = parsed(junitXml(s, { hostname: 'h' }));
    expect(suite).toMatchObject({ tests: '4', failures: '0', errors: '0', skipped: '3' });
    expect(cases[1]!.skipped).toMatchObject({
      message:
        'nothing was judged: 2 not reached (allowed: --allow-unjudged): the run tested nothing',
    });
    expect(summaryMarkdown(s)).toMatch(/^### ⚠️ /);
  });
});

describe('Markdown summary', () => {
  it('says the verdict, each expectation with its measured value, and the workloads', () => {
    const s = basic();
    const md = summaryMarkdown(s, '/r/x');
    expect(md).toMatch(/^### ❌ qoslab run: report-basic\n/);
    expect(md).toContain('1 expectation failed');
    expect(md).toMatch(/^\| ok \| ws\.delivery >= 99% \| 100% \|$/m);
    expect(md).toMatch(/^\| FAIL \| ws\.latency\.p95 < 1us during later \| [\d.]+ ms \|$/m);
    expect(md).toMatch(/^\| ws \| later \| \d+ \| /m);
    expect(md).toContain('results: `/r/x`');
  });
});

describe('--junit / --summary-md targets', () => {
  it('--summary-md alone appends to $GITHUB_STEP_SUMMARY, and needs it set', () => {
    const dir = tmpDir('qoslab-ci-');
    const step = join(dir, 'step.md');
    expect(ciTargets({ summaryMd: '' }, { GITHUB_STEP_SUMMARY: step })).toEqual({
      summaryMd: { path: step, append: true },
    });
    expect(() => ciTargets({ summaryMd: '' }, {})).toThrow(/GITHUB_STEP_SUMMARY, which is not set/);
  });

  it('rejects a file that cannot be written, naming it and why', () => {
    expect(() => ciTargets({ junit: '/nonexistent/dir/j.xml' })).toThrow(
      '--junit /nonexistent/dir/j.xml: cannot write there: the directory /nonexistent/dir does not exist',
    );
    const dir = tmpDir('qoslab-ci-');
    expect(() => ciTargets({ summaryMd: dir })).toThrow(/it is a directory/);
    if (!isRoot) {
      chmodSync(dir, 0o500);
      expect(() => ciTargets({ junit: join(dir, 'j.xml') })).toThrow(/not writable \(EACCES\)/);
    }
  });

  it('`report RUN_DIR --junit --summary-md` writes both after the fact', async () => {
    const dir = copyOfRun();
    const junit = join(dir, 'junit.xml');
    const md = join(dir, 'summary.md');
    const step = join(dir, 'step.md');
    writeFileSync(step, 'earlier step\n');
    const r = await qoslab(['report', dir, '--junit', junit, '--summary-md', md]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote ${junit}\nwrote ${md}\n`);
    expect(junitSchemaViolations(readFileSync(junit, 'utf8'))).toEqual([]);
    expect(readFileSync(md, 'utf8')).toMatch(/^### ❌ qoslab run: report-basic/);
    // As a GitHub step: appended to what earlier steps wrote.
    process.env.GITHUB_STEP_SUMMARY = step;
    try {
      expect((await qoslab(['report', dir, '--summary-md'])).code).toBe(0);
    } finally {
      delete process.env.GITHUB_STEP_SUMMARY;
    }
    expect(readFileSync(step, 'utf8')).toMatch(/^earlier step\n### ❌ qoslab run: report-basic/);
    const bad = await qoslab(['report', dir, '--junit', '/nonexistent/j.xml']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--junit /nonexistent/j.xml: cannot write there');
  });
});

describe('a run that fails at start-up', () => {
  const version = (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;

  it('still writes its JUnit and Markdown, dated now, with the error', async () => {
    const dir = tmpDir('qoslab-ci-');
    const bad = join(dir, 'broken.yaml');
    writeFileSync(bad, 'name: x\nnetwork:\n  uplink:\n    rate: 128kbps\n');
    const junit = join(dir, 'junit.xml');
    const md = join(dir, 'summary.md');
    const before = new Date().toISOString().slice(0, 19);
    const r = await qoslab(['run', bad, '--junit', junit, '--summary-md', md, '--quiet']);
    expect(r.code).toBe(2);
    const xml = readFileSync(junit, 'utf8');
    expect(junitSchemaViolations(xml)).toEqual([]);
    const { suite, cases } = parsed(xml);
    expect(suite).toMatchObject({ name: 'qoslab.broken', tests: '1', errors: '1' });
    expect(String(suite.timestamp) >= before).toBe(true);
    expect(xml).toContain(`<property name="qoslab" value="${version}"/>`);
    expect(String((cases[0]!.error as Node).message)).toMatch(
      /^the run failed: .*broken\.yaml:4:\d+\s+network\.uplink\.rate/s,
    );
    expect(readFileSync(md, 'utf8')).toMatch(/^### ❌ qoslab run: broken\n\nfailed: /);
  });

  it('leaves a summary.json that `report --junit` dates and versions', () => {
    // What run.ts writes when the session fails to open: the folder has no events.
    const dir = copyOfRun();
    writeFileSync(join(dir, 'events.ndjson'), '');
    const startedAt = new Date('2026-12-03T10:00:00Z');
    writeFileSync(
      join(dir, 'summary.json'),
      JSON.stringify(
        failedSummary({ scenario: 'report-basic', startedAt, error: 'spawn EACCES', exitCode: 3 }),
      ),
    );
    const s = loadRun(dir).summary;
    expect(s).toMatchObject({ status: 'failed', qoslab: version, error: 'spawn EACCES' });
    const { suite } = parsed(junitXml(s, { hostname: 'h' }));
    expect(suite.timestamp).toBe('2026-12-03T10:00:00');
  });
});
