/**
 * `qoslab run`: open a lab for a scenario, run the server agent in the server namespace
 * and the client agent in the client namespace, play the timeline, record every event,
 * then compute metrics, check the expectations and write the results.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { AgentConfig } from '../agent/config.js';
import type { AgentEvent, MeasureEvent } from '../agent/events.js';
import { ExitCode, LabError } from '../errors.js';
import { checkExpectations, type ExpectationResult } from '../metrics/expect.js';
import { phaseAt, phasesOf, type Phase } from '../metrics/phases.js';
import { summarize, type WorkloadStats } from '../metrics/summarize.js';
import { nativeVersion } from '../native/index.js';
import { catchInterrupts } from '../orchestrate/interrupt.js';
import { Lab } from '../orchestrate/lab.js';
import { TimelinePlayer } from '../orchestrate/timeline.js';
import { DEFAULT_SCENARIO, loadScenario, type LoadedScenario } from '../scenario/library.js';
import { AgentProcess } from './agents.js';
import { runEnvironment, qoslabVersion } from './env.js';
import { expectationLines, marks, summaryTable } from './format.js';
import { checkRunnable, withOverrides } from './prepare.js';
import { makeLabPki } from './pki.js';
import { LiveTally, Progress } from './progress.js';
import { ResultFiles, resultsDir } from './results.js';
import { writeReport } from '../report/report.js';

export interface RunOptions {
  /** Library name or path; default the `messengers` scenario. */
  scenario?: string;
  /** An already loaded scenario (instead of `scenario`). */
  loaded?: LoadedScenario;
  /** Overrides the scenario's duration (timeline entries beyond it are dropped). */
  durationNs?: number;
  /** Results folder; default results/<UTC time>-<name>. */
  outDir?: string;
  /** Overrides the scenario's seed. */
  seed?: number;
  /** Print summary.json instead of the table. */
  json?: boolean;
  /** No progress and no table. */
  quiet?: boolean;
  /** Stop early (as Ctrl-C does): the run ends with status interrupted. */
  signal?: AbortSignal;
  /** Lab run id (default random); tests use it to look for leftovers. */
  labId?: string;
  /** QoS of MQTT workloads (default 1). */
  mqttQos?: 0 | 1;
  out?: NodeJS.WritableStream & { isTTY?: boolean };
  err?: NodeJS.WritableStream & { isTTY?: boolean };
}

export type RunStatus = 'completed' | 'interrupted' | 'failed';

export interface RunSummary {
  format: 1;
  qoslab: string;
  scenario: string;
  status: RunStatus;
  /** 0 ok, 1 an expectation failed, 130 interrupted. */
  exit_code: number;
  started_at: string;
  finished_at: string;
  seed: number;
  /** Planned length of the run. */
  duration_ns: number;
  /** ns from t0 until the agents stopped observing. */
  observed_ns: number;
  lab_id: string;
  phases: Phase[];
  workloads: WorkloadStats[];
  expectations: ExpectationResult[];
  /** True when every expectation held. */
  ok: boolean;
  warnings: string[];
  error: string | null;
}

export interface RunResult {
  dir: string;
  summary: RunSummary;
  exitCode: number;
}

/**
 * After the last message is sent, watch until the longest deadline has passed (at least
 * 1.5 s, at most 10 s) so the last messages are judged too. Messages whose deadline
 * outlives the watch are left unjudged, arrived or not.
 */
const MIN_DRAIN_MS = 1500;
const MAX_DRAIN_MS = 10_000;
const READY_TIMEOUT_MS = 20_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Run a scenario; resolves with the results (exit code included) once the lab is gone. */
export async function run(options: RunOptions = {}): Promise<RunResult> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const loaded = options.loaded ?? (await loadScenario(options.scenario ?? DEFAULT_SCENARIO));
  const compiled = withOverrides(loaded.compiled, {
    durationNs: options.durationNs,
    seed: options.seed,
  });
  checkRunnable(loaded, compiled);
  const warnings: string[] = [];
  for (const w of warnings) err.write(`qoslab: warning: ${w}\n`);

  const interrupts = catchInterrupts(err);
  const stopSignal = AbortSignal.any([
    interrupts.signal,
    ...(options.signal ? [options.signal] : []),
  ]);
  const files = new ResultFiles(resultsDir(compiled.name, options.outDir));
  const tmp = mkdtempSync(join(os.tmpdir(), 'qoslab-run-'));
  const startedAt = new Date();
  const events: MeasureEvent[] = [];
  const phases = phasesOf(compiled.timeline, compiled.duration_ns);
  const tally = new LiveTally(compiled.workloads.map((w) => w.name));
  const progress = Progress.auto(err, options.quiet === true || options.json === true);
  let lab: Lab | undefined;
  const agents: AgentProcess[] = [];
  let t0 = 0n;
  let observedNs = 0;
  let started = false;
  let error: string | null = null;
  let timeline: TimelinePlayer | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    files.writeText('scenario.yaml', loaded.text);
    files.writeJson('compiled.json', compiled);
    let native: string | null = null;
    try {
      native = nativeVersion();
    } catch {
      native = null;
    }
    files.writeJson('env.json', runEnvironment(native));

    const hosts = compiled.hosts.filter((h) => h.names.length > 0).map((h) => h.names);
    const pki = await makeLabPki(hosts, options.labId ?? 'run');
    lab = await Lab.open({ scenario: compiled, id: options.labId });
    if (stopSignal.aborted) throw stopSignal.reason;

    const onEvent = (e: AgentEvent) => {
      if (e.ev === 'ready') return;
      if (e.ev === 'log') {
        err.write(`[${e.role}] ${e.msg}\n`);
        return;
      }
      files.events.write(e);
      events.push(e);
      tally.add(e);
    };
    for (const role of ['server', 'client'] as const) {
      const config: AgentConfig = {
        role,
        workloads: compiled.workloads,
        seed: compiled.seed,
        caPem: pki.caPem,
        certs: role === 'server' ? pki.certs : {},
        ipv6: lab.ipv6,
        mqttQos: options.mqttQos,
      };
      const path = join(tmp, `${role}.json`);
      writeFileSync(path, JSON.stringify(config), { mode: 0o600 });
      const ns = role === 'server' ? lab.names.serverNs : lab.names.clientNs;
      const agent = new AgentProcess(role, ns, path, lab.env(), onEvent, (line) =>
        err.write(`[${role}] ${line}\n`),
      );
      agents.push(agent);
      const ready = await Promise.race([
        agent.ready.then(() => 'ready' as const),
        agent.exited.then((code) => `exited with code ${code}` as const),
        sleep(READY_TIMEOUT_MS, stopSignal).then(() => 'timeout' as const),
      ]);
      if (stopSignal.aborted) throw stopSignal.reason;
      if (ready !== 'ready') {
        throw new LabError(
          `the ${role} agent did not start (${ready === 'timeout' ? 'no ready in 20 s' : ready})`,
        );
      }
    }

    // t0: both agents and the timeline start from the same monotonic instant.
    t0 = process.hrtime.bigint();
    for (const a of agents) a.send({ cmd: 'start', t0: String(t0) });
    started = true;
    const relNow = () => Number(process.hrtime.bigint() - t0);
    const activeLab = lab;
    const shaping = compiled.policies.length > 0;
    timeline = new TimelinePlayer(compiled.timeline, {
      apply: (active) => {
        if (shaping) activeLab.setActivePolicies(active);
      },
      onPhase: (change) => {
        const e = { ev: 'phase' as const, phase: change.phase, t: change.appliedNs };
        files.events.write(e);
        events.push(e);
      },
      now: () => process.hrtime.bigint(),
    });
    if (phases[0]?.start === 0 && phases[0].name !== compiled.timeline[0]?.phase) {
      const e = { ev: 'phase' as const, phase: phases[0].name, t: 0 };
      files.events.write(e);
      events.push(e);
    }
    timeline.start();

    timers.push(
      setInterval(() => {
        const counters = activeLab.counters();
        if (counters !== undefined) files.datapath.write({ t: relNow(), ...counters });
      }, 1000),
    );
    const draw = () =>
      progress.update(
        tally.lines(
          phaseAt(phases, relNow()),
          Math.min(relNow(), compiled.duration_ns),
          compiled.duration_ns,
        ),
        relNow(),
      );
    timers.push(setInterval(draw, 250));
    draw();

    await sleep(compiled.duration_ns / 1e6, stopSignal);
    const longestDeadlineMs = Math.max(0, ...compiled.workloads.map((w) => w.deadline_ns / 1e6));
    const drainMs = Math.min(MAX_DRAIN_MS, Math.max(MIN_DRAIN_MS, longestDeadlineMs));
    if (!stopSignal.aborted) await sleep(drainMs, stopSignal);
    draw();
    progress.done();
  } catch (e) {
    if (!stopSignal.aborted) {
      error = e instanceof Error ? e.message : String(e);
      throw e;
    }
  } finally {
    for (const t of timers) clearInterval(t);
    timeline?.stop();
    observedNs = started ? Number(process.hrtime.bigint() - t0) : 0;
    // The client first, so the server's closing is not recorded as a failure.
    for (const a of [...agents].reverse()) await a.stop(4000);
    try {
      await lab?.close();
    } finally {
      await files.close();
      rmSync(tmp, { recursive: true, force: true });
      interrupts.dispose();
      tally.destroy();
      if (error !== null) {
        files.writeJson('summary.json', {
          format: 1,
          scenario: compiled.name,
          status: 'failed',
          error,
        });
      }
    }
  }

  const interrupted = stopSignal.aborted;
  const stats = summarize({
    events,
    workloads: compiled.workloads,
    phases,
    observedEnd: observedNs,
  });
  const expectations = interrupted ? [] : checkExpectations(compiled.expect, stats);
  const ok = expectations.every((r) => r.ok);
  const exitCode = interrupted ? ExitCode.interrupted : ok ? ExitCode.ok : ExitCode.expectFailed;
  const summary: RunSummary = {
    format: 1,
    qoslab: qoslabVersion(),
    scenario: compiled.name,
    status: interrupted ? 'interrupted' : 'completed',
    exit_code: exitCode,
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    seed: compiled.seed,
    duration_ns: compiled.duration_ns,
    observed_ns: observedNs,
    lab_id: lab?.names.id ?? '',
    phases,
    workloads: stats,
    expectations,
    ok,
    warnings,
    error: null,
  };
  files.writeJson('summary.json', summary);
  try {
    writeReport(files.dir);
  } catch (error) {
    // The measurements are on disk already; a report bug must not cost them.
    err.write(`qoslab: report.html not written: ${(error as Error).message}\n`);
  }

  if (options.json) out.write(`${JSON.stringify(summary, null, 2)}\n`);
  else if (!options.quiet) {
    out.write(`\n${summaryTable(stats)}\n`);
    if (expectations.length > 0) {
      const m = marks(out);
      out.write(`\nexpectations:\n${expectationLines(expectations, m.ok, m.fail)}\n`);
    }
    if (interrupted) out.write('\ninterrupted: expectations not checked\n');
    out.write(`\nresults: ${files.dir}\n`);
  }
  return { dir: files.dir, summary, exitCode };
}
