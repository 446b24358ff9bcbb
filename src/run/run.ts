/**
 * `qoslab run`: prepare the results folder, open a session (lab and agents), play the
 * scenario, then summarize, write and print. Each step lives in its own module.
 */
import { ExitCode, exitCodeOf, ResourceError } from '../errors.js';
import { nativeVersion } from '../native/index.js';
import { phasesOf } from '../metrics/index.js';
import { catchInterrupts } from '../orchestrate/interrupt.js';
import { assertPrograms } from '../orchestrate/programs.js';
import type { RunSummary } from '../record/summary.js';
import type { FileAllowance } from '../scenario/files.js';
import { PROTOCOLS } from '../scenario/protocols/index.js';
import { DEFAULT_SCENARIO, loadScenario, type LoadedScenario } from '../scenario/library.js';
import { runEnvironment } from './env.js';
import { failedSummary, runningSummary, summarizeRun, writeSummary } from './finish.js';
import { prepareResultsDir, realFolderNote } from './out-path.js';
import { play, type RunClock } from './play.js';
import { startAtPhase } from './phase.js';
import { checkRunnable, lengthNotes, scenarioDir, withOverrides } from './prepare.js';
import { printRun, type OutStream } from './print.js';
import { LiveTally, Progress } from './progress.js';
import { FlowLog } from './flow-log.js';
import { budgetText, EventRecorder } from './recorder.js';
import { faultText } from './resource-fault.js';
import { ResultFiles, resultsDir } from './results.js';
import { RunSession } from './session.js';

export type { RunStatus, RunSummary } from '../record/summary.js';

export interface RunOptions {
  /** Library name or path; default the `messengers` scenario. */
  scenario?: string;
  /** --allow-path folders the scenario may name files in (with `scenario`). */
  allow?: FileAllowance;
  /** An already loaded scenario (instead of `scenario`). */
  loaded?: LoadedScenario;
  /**
   * Overrides the scenario's duration: shorter cuts the timeline (phases not reached are
   * reported so), longer extends the last phase and the workloads running at its end.
   */
  durationNs?: number;
  /** Results folder; default results/<UTC time>-<name>. */
  outDir?: string;
  /** Write into an `outDir` that holds an earlier run. */
  force?: boolean;
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
  /**
   * A run whose expectations were all not reached or not measured exits 0 instead of 5
   * (exploratory runs that cut the timeline on purpose).
   */
  allowUnjudged?: boolean;
  /** Events kept at most (default MAX_RECORDED_EVENTS); tests make it small. */
  maxEvents?: number;
  /** QoS of MQTT workloads (default 1). */
  mqttQos?: 0 | 1;
  /**
   * Let the scenario run the programs its `command` workloads name (docs/security.md):
   * without it such a scenario is refused (exit 2) before any lab exists.
   */
  allowCommands?: boolean;
  /** Write a packet capture (capture.pcapng) even when the scenario has no `capture`. */
  pcap?: boolean;
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
  const loaded =
    options.loaded ??
    (await loadScenario(options.scenario ?? DEFAULT_SCENARIO, { allow: options.allow }));
  const started =
    options.phase === undefined
      ? { compiled: loaded.compiled, skipped: [] }
      : startAtPhase(loaded.compiled, options.phase);
  const compiled = withOverrides(started.compiled, {
    durationNs: options.durationNs,
    seed: options.seed,
  });
  checkRunnable(loaded, compiled, {
    allowCommands: options.allowCommands === true || options.allow?.commands === true,
  });
  assertPrograms(compiled);
  const dir = prepareResultsDir(resultsDir(compiled.name, options.outDir), options.force === true);
  const linked = realFolderNote(
    options.outDir === undefined ? 'results' : '--out',
    options.outDir ?? dir,
    dir,
  );
  const warnings = [
    ...(linked === undefined ? [] : [linked]),
    ...started.skipped.map((s) => `--phase ${options.phase}: not checking '${s.text}' (${s.why})`),
    ...lengthNotes(started.compiled, compiled),
  ];
  for (const w of warnings) err.write(`qoslab: warning: ${w}\n`);

  // Held until the summary is written: a second or third Ctrl-C must not cost it.
  const interrupts = catchInterrupts(err);
  try {
    return await runIn(dir, loaded, compiled, warnings, interrupts.signal, options, out, err);
  } finally {
    interrupts.dispose();
  }
}

async function runIn(
  dir: string,
  loaded: LoadedScenario,
  compiled: LoadedScenario['compiled'],
  warnings: string[],
  interrupt: AbortSignal,
  options: RunOptions,
  out: OutStream,
  err: OutStream,
): Promise<RunResult> {
  const progress = Progress.auto(err, options.quiet === true || options.json === true);
  const files = new ResultFiles(dir, (f) => {
    progress.done();
    err.write(
      `qoslab: ${faultText(f)}; the run goes on measuring and keeps its results in memory\n`,
    );
  });
  const startedAt = new Date();
  const phases = phasesOf(compiled.timeline, compiled.duration_ns);
  // Live counts of messages: a `command` workload sends none of qoslab's (its flows are in the table after).
  const tally = new LiveTally(
    compiled.workloads.filter((w) => PROTOCOLS[w.protocol].agent === true).map((w) => w.name),
  );
  const recorder = new EventRecorder(files.events, tally, options.maxEvents);
  const stop = AbortSignal.any([interrupt, ...(options.signal ? [options.signal] : [])]);
  const session = new RunSession(compiled, {
    labId: options.labId,
    mqttQos: options.mqttQos,
    traces: loaded.traces,
    stop,
    err,
    scenarioDir: scenarioDir(loaded),
    resultsDir: dir,
    pcap: options.pcap,
  });
  let clock: RunClock | undefined;
  let flows: FlowLog | undefined;
  let observedNs = 0;
  const env = runEnvironment(nativeVersionOrNull());
  try {
    files.writeText('scenario.yaml', loaded.text);
    files.writeJson('compiled.json', compiled);
    files.writeJson('env.json', env);
    files.writeJson(
      'summary.json',
      runningSummary({ compiled, phases, startedAt, labId: options.labId ?? '', warnings }),
    );
    // Nothing is measured yet: a folder that takes no files now is no place for a run.
    if (files.faults.length > 0) {
      throw new ResourceError(
        `cannot write the results in ${dir}: ${files.faults.map(faultText).join('; ')}`,
        ['free some space, or give another folder with --out'],
      );
    }
    files.announce = true;
    await session.open((e) => {
      if (e.ev === 'ready' || e.ev === 'alive') return;
      if (e.ev === 'log') err.write(`[${e.role}] ${e.msg}\n`);
      else recorder.record(e);
    });
    await play({ compiled, phases, session, files, recorder, tally, progress, err }, (c) => {
      clock = c;
      files.clock = () => c.now();
      // The resolver's exchanges from t0 on (a browser's lookups while it starts are not the run's).
      session.onQuery = ({ ev: _, at, ...q }) => {
        const t = Number(BigInt(at) - c.t0);
        if (t >= 0) recorder.record({ ev: 'dns', t, ...q });
      };
      flows = new FlowLog(files.flows, c.t0, compiled);
      return flows;
    });
  } catch (e) {
    if (!stop.aborted) {
      // A resource fault has its own summary (what was measured, kept); anything else fails.
      if (!(e instanceof ResourceError)) {
        files.writeJson(
          'summary.json',
          failedSummary({
            scenario: compiled.name,
            compiled,
            startedAt,
            labId: session.lab?.names.id ?? options.labId,
            warnings,
            error: e instanceof Error ? e.message : String(e),
            exitCode: exitCodeOf(e),
          }),
        );
      }
      throw e;
    }
  } finally {
    observedNs = clock?.now() ?? 0;
    try {
      await session.close();
      // The core's final word on every flow, left as the lab closed.
      flows?.finish(session.lab?.flows() ?? []);
    } finally {
      await files.close();
      tally.destroy();
    }
  }

  // What a full disk or a removed folder cost is written again from memory, where possible.
  files.announce = false; // from here on, what went wrong is said with the summary
  const incomplete = files.restore(recorder.events);
  const full = recorder.full.aborted;
  const judged = summarizeRun({
    compiled,
    phases,
    events: recorder.events,
    flows: flows?.lines ?? [],
    startedAt,
    // At its event budget the run stopped where its last kept event was, as if interrupted
    // there: later phases are not reached, a cut phase not measured.
    observedNs: full ? recorder.lastEventNs() : observedNs,
    interrupted: stop.aborted || full,
    labId: session.lab?.names.id ?? '',
    warnings,
    capture: session.lab?.captured ?? null,
    allowUnjudged: options.allowUnjudged,
    resourceFaults: files.faults.map(faultText),
    incomplete,
  });
  const summary = full
    ? {
        ...judged,
        status: 'failed' as const,
        exit_code: ExitCode.runFailed,
        ok: false,
        error: budgetText(recorder),
      }
    : judged;
  const written = writeSummary(
    files,
    summary,
    {
      compiled,
      scenarioText: loaded.text,
      events: recorder.events,
      env,
      datapath: files.datapath,
      flows: flows?.lines,
    },
    err,
  );
  printRun(written, files.dir, out, options);
  return { dir: files.dir, summary: written, exitCode: written.exit_code };
}
