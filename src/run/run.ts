/**
 * `qoslab run`: prepare the results folder, open a session (lab and agents), play the
 * scenario, then summarize, write and print. Each step lives in its own module.
 */
import { nativeVersion } from '../native/index.js';
import { phasesOf } from '../metrics/index.js';
import type { RunSummary } from '../record/summary.js';
import { DEFAULT_SCENARIO, loadScenario, type LoadedScenario } from '../scenario/library.js';
import { runEnvironment } from './env.js';
import { summarizeRun, writeSummary } from './finish.js';
import { play, type RunClock } from './play.js';
import { startAtPhase } from './phase.js';
import { checkRunnable, withOverrides } from './prepare.js';
import { printRun, type OutStream } from './print.js';
import { LiveTally, Progress } from './progress.js';
import { EventRecorder } from './recorder.js';
import { ResultFiles, resultsDir } from './results.js';
import { RunSession } from './session.js';

export type { RunStatus, RunSummary } from '../record/summary.js';

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
  /** Start at this phase, its policies in force from the first packet (see ./phase.ts). */
  phase?: string;
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
  out?: OutStream;
  err?: OutStream;
}

export interface RunResult {
  dir: string;
  summary: RunSummary;
  exitCode: number;
}

function nativeVersionOrNull(): string | null {
  try {
    return nativeVersion();
  } catch {
    return null;
  }
}

/** Run a scenario; resolves with the results (exit code included) once the lab is gone. */
export async function run(options: RunOptions = {}): Promise<RunResult> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const loaded = options.loaded ?? (await loadScenario(options.scenario ?? DEFAULT_SCENARIO));
  const started =
    options.phase === undefined
      ? { compiled: loaded.compiled, skipped: [] }
      : startAtPhase(loaded.compiled, options.phase);
  const compiled = withOverrides(started.compiled, {
    durationNs: options.durationNs,
    seed: options.seed,
  });
  checkRunnable(loaded, compiled);
  const warnings = started.skipped.map(
    (s) => `--phase ${options.phase}: not checking '${s.text}' (${s.why})`,
  );
  // A shorter --duration can cut whole phases: their expectations cannot be measured.
  const phasesLeft = new Set(compiled.timeline.map((e) => e.phase));
  const cut =
    compiled.timeline.length === 0
      ? []
      : compiled.expect.filter((e) => e.phase !== null && !phasesLeft.has(e.phase));
  for (const e of cut) {
    warnings.push(`--duration: not checking '${e.text}' (phase '${e.phase}' is cut off)`);
  }
  if (cut.length > 0) compiled.expect = compiled.expect.filter((e) => !cut.includes(e));
  for (const w of warnings) err.write(`qoslab: warning: ${w}\n`);

  const files = new ResultFiles(resultsDir(compiled.name, options.outDir));
  const startedAt = new Date();
  const phases = phasesOf(compiled.timeline, compiled.duration_ns);
  const tally = new LiveTally(compiled.workloads.map((w) => w.name));
  const recorder = new EventRecorder(files.events, tally);
  const progress = Progress.auto(err, options.quiet === true || options.json === true);
  const session = new RunSession(compiled, {
    labId: options.labId,
    mqttQos: options.mqttQos,
    signal: options.signal,
    err,
  });
  let clock: RunClock | undefined;
  let observedNs = 0;
  try {
    files.writeText('scenario.yaml', loaded.text);
    files.writeJson('compiled.json', compiled);
    files.writeJson('env.json', runEnvironment(nativeVersionOrNull()));
    await session.open((e) => {
      if (e.ev === 'ready') return;
      if (e.ev === 'log') err.write(`[${e.role}] ${e.msg}\n`);
      else recorder.record(e);
    });
    await play({ compiled, phases, session, files, recorder, tally, progress }, (c) => {
      clock = c;
    });
  } catch (e) {
    if (!session.interrupted) {
      files.writeJson('summary.json', {
        format: 1,
        scenario: compiled.name,
        status: 'failed',
        error: e instanceof Error ? e.message : String(e),
      });
      throw e;
    }
  } finally {
    observedNs = clock?.now() ?? 0;
    try {
      await session.close();
    } finally {
      await files.close();
      tally.destroy();
    }
  }

  const summary = summarizeRun({
    compiled,
    phases,
    events: recorder.events,
    startedAt,
    observedNs,
    interrupted: session.interrupted,
    labId: session.lab?.names.id ?? '',
    warnings,
  });
  writeSummary(files, summary, err);
  printRun(summary, files.dir, out, options);
  return { dir: files.dir, summary, exitCode: summary.exit_code };
}
