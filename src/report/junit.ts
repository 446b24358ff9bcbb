/**
 * A run as JUnit XML, for CI systems that show test results (GitHub, GitLab, Jenkins).
 * The shape follows the common Apache Ant JUnit schema: <testsuites> with one <testsuite>
 * (package, id, name, timestamp without zone, hostname, counts, time), <properties>
 * first, a <testcase> per expectation, then <system-out> and <system-err>.
 *
 * Each expectation is a test case: a failure carries the measured value; one the run
 * could not judge (`not measured`: an agent died in its window, or the run stopped in it;
 * `not reached`) is skipped. An expectation whose metric had no data in a run that was
 * watching (a blocked bulk download has no goodput at all) failed, as the exit code
 * says: a skip there would make a CI job green on the worst outcome. Two more cases:
 * `run completed` errors when the run was interrupted or failed, so a broken lab is
 * never a green CI job, and `expectations judged` when none was judged (exit 5).
 */
import os from 'node:os';
import type { ExpectationResult } from '../record/summary.js';
import type { RunSummary } from '../record/summary.js';
import {
  failureText,
  fmtExactValue,
  fmtMeasured,
  unjudgedText,
  verdictText,
} from '../record/format.js';

/** XML 1.0 text and attribute escaping; drops characters XML cannot carry at all. */
export function xmlEscape(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');
}

/** The schema's timestamp: ISO 8601 without fraction and without a zone (it is UTC). */
function timestamp(iso: string): string {
  const d = new Date(iso);
  return (Number.isNaN(d.getTime()) ? new Date(0) : d).toISOString().slice(0, 19);
}

function seconds(ns: number): string {
  return (Math.max(0, ns) / 1e9).toFixed(3);
}

/** What the failure message says: the expectation, what was measured and what was wanted. */
function failureMessage(e: ExpectationResult): string {
  return e.measured === null
    ? `${e.text}: nothing measured`
    : `${e.text}: measured ${fmtMeasured(e)}`;
}

interface Case {
  name: string;
  body: string;
  outcome: 'passed' | 'failed' | 'skipped' | 'error';
}

function expectationCase(e: ExpectationResult): Case {
  const why = unjudgedText(e);
  if (why !== undefined) {
    return { name: e.text, outcome: 'skipped', body: `<skipped${attrs({ message: why })}/>` };
  }
  if (e.ok) return { name: e.text, outcome: 'passed', body: '' };
  const expected = `expected ${e.op} ${fmtExactValue(e.kind, e.expected)}`;
  const detail =
    e.measured === null
      ? `measured nothing (the metric had no data in this scope); ${expected}`
      : `measured ${fmtExactValue(e.kind, e.measured)}; ${expected}`;
  return {
    name: e.text,
    outcome: 'failed',
    body: `<failure${attrs({ message: failureMessage(e), type: 'expectation' })}>${xmlEscape(detail)}</failure>`,
  };
}

/**
 * `expectations judged`: errors when there were expectations and none was judged, so a CI
 * job that shortened --duration past every phase it checks is not green (unless the run
 * was started with --allow-unjudged); absent for a scenario without expectations.
 */
function judgedCase(s: RunSummary): Case[] {
  if (s.expectations.length === 0 || s.status !== 'completed') return [];
  const name = 'expectations judged';
  if (s.unjudged !== true) return [{ name, outcome: 'passed', body: '' }];
  const message = `${verdictText(s)}: the run tested nothing`;
  if (s.allow_unjudged === true) {
    return [{ name, outcome: 'skipped', body: `<skipped${attrs({ message })}/>` }];
  }
  return [
    {
      name,
      outcome: 'error',
      body: `<error${attrs({ message, type: 'unjudged' })}>${xmlEscape(message)}</error>`,
    },
  ];
}

function runCase(s: RunSummary): Case {
  const name = 'run completed';
  if (s.status === 'completed' && (s.resource_faults ?? []).length === 0) {
    return { name, outcome: 'passed', body: '' };
  }
  const message =
    s.status === 'interrupted'
      ? 'the run was interrupted: later phases not reached'
      : s.status === 'completed'
        ? failureText(s)
        : `the run failed: ${failureText(s)}`;
  const type = s.status === 'completed' ? 'resource-fault' : s.status;
  return {
    name,
    outcome: 'error',
    body: `<error${attrs({ message, type })}>${xmlEscape(message)}</error>`,
  };
}

/**
 * A scenario may state one expectation twice (two phases' lists merged, a copy-paste):
 * CI systems key results by classname and name, and show one of two equal names.
 */
function uniqueNames(cases: Case[]): Case[] {
  const seen = new Map<string, number>();
  return cases.map((c) => {
    const n = (seen.get(c.name) ?? 0) + 1;
    seen.set(c.name, n);
    return n === 1 ? c : { ...c, name: `${c.name} (${n})` };
  });
}

export interface JunitOptions {
  /** Default: this machine's host name. */
  hostname?: string;
  /** Shown in <system-out>, e.g. the results directory. */
  resultsDir?: string;
}

/** One run of a document with several (a sweep's or a merge's runs). */
export interface JunitRun {
  summary: RunSummary;
  /** Appended to the suite's name and its cases' classname, e.g. `c0-rate=1mbit.rep-0`. */
  label?: string;
  resultsDir?: string;
}

function suiteLines(run: JunitRun, id: number, hostname: string): string[] {
  const s = run.summary;
  const classname = `qoslab.${s.scenario}${run.label ? `.${run.label}` : ''}`;
  const cases = uniqueNames([runCase(s), ...judgedCase(s), ...s.expectations.map(expectationCase)]);
  const count = (o: Case['outcome']) => cases.filter((c) => c.outcome === o).length;
  const suite = {
    package: 'qoslab',
    id,
    name: classname,
    timestamp: timestamp(s.started_at),
    hostname,
    tests: cases.length,
    failures: count('failed'),
    errors: count('error'),
    skipped: count('skipped'),
    time: seconds(s.observed_ns),
  };
  const properties = {
    scenario: s.scenario,
    seed: String(s.seed),
    status: s.status,
    duration_ns: String(s.duration_ns),
    qoslab: s.qoslab,
    lab_id: s.lab_id,
  };
  return [
    `  <testsuite${attrs(suite)}>`,
    '    <properties>',
    ...Object.entries(properties).map(
      ([name, value]) => `      <property${attrs({ name, value })}/>`,
    ),
    '    </properties>',
    ...cases.map((c) => {
      const open = `    <testcase${attrs({ name: c.name, classname, time: '0' })}`;
      return c.body === '' ? `${open}/>` : `${open}>${c.body}</testcase>`;
    }),
    `    <system-out>${xmlEscape(run.resultsDir ? `results: ${run.resultsDir}` : '')}</system-out>`,
    `    <system-err>${xmlEscape([...s.warnings, ...(s.notes ?? [])].join('\n'))}</system-err>`,
    '  </testsuite>',
  ];
}

/** Several runs, a <testsuite> each (a sweep shard's runs, a merge's). */
export function junitRunsXml(runs: JunitRun[], options: { hostname?: string } = {}): string {
  const hostname = options.hostname || os.hostname() || 'localhost';
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<testsuites>',
    ...runs.flatMap((run, id) => suiteLines(run, id, hostname)),
    '</testsuites>',
  ];
  return `${lines.join('\n')}\n`;
}

export function junitXml(s: RunSummary, options: JunitOptions = {}): string {
  return junitRunsXml([{ summary: s, resultsDir: options.resultsDir }], options);
}
