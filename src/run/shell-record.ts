/**
 * `qoslab shell` leaves numbers too: a results folder like a run's, made from what the
 * core metered of the flows the user's own programs opened — compiled.json, events.ndjson
 * (the phases), flows.ndjson, datapath.ndjson, summary.json with the flows summary,
 * report.html, and with `--pcap` capture.pcapng — so `report` and `compare` read it as
 * they read a run. The shell runs no workloads of the scenario: its hosts and policies
 * apply, and flows are attributed to hosts only.
 */
import type { ShellHooks } from '../orchestrate/shell.js';
import type { Lab } from '../orchestrate/lab.js';
import type { NativeCaptureConfig } from '../native/index.js';
import { phasesOf } from '../metrics/phases.js';
import { flowsTable } from '../record/format.js';
import type { MeasureEvent } from '../record/events.js';
import type { RunSummary } from '../record/summary.js';
import { compileScenario } from '../scenario/compile.js';
import type { CompiledConfig } from '../scenario/compiled.js';
import { parseScenarioText } from '../scenario/load.js';
import { captureConfig } from './capture.js';
import { runEnvironment } from './env.js';
import { summarizeRun, writeSummary } from './finish.js';
import { FlowLog } from './flow-log.js';
import { ResultFiles } from './results.js';
import { nativeVersion } from '../native/index.js';

/** The scenario a shell without one runs: no policies, no hosts; every flow metered. */
export function unimpairedScenario(): CompiledConfig {
  return compileScenario(parseScenarioText('version: 1\nname: shell\n', '(shell)'));
}

export interface ShellRecording {
  hooks: ShellHooks;
  capture: NativeCaptureConfig | undefined;
  /** Summarize and write (after the shell ended); the summary, or undefined if the lab never opened. */
  finish(interrupted: boolean): Promise<RunSummary | undefined>;
}

function nativeVersionOrNull(): string | null {
  try {
    return nativeVersion();
  } catch {
    return null;
  }
}

/** Record a shell's lab into `dir` (which `prepareResultsDir` checked). */
export function recordShell(
  dir: string,
  scenario: CompiledConfig,
  scenarioText: string,
  pcap: boolean,
  err: NodeJS.WritableStream,
): ShellRecording {
  // The shell runs none of the scenario's workloads or expectations.
  const compiled: CompiledConfig = { ...scenario, workloads: [], expect: [] };
  const files = new ResultFiles(dir);
  const events: MeasureEvent[] = [];
  const startedAt = new Date();
  let flows: FlowLog | undefined;
  let t0: bigint | undefined;
  let timer: NodeJS.Timeout | undefined;
  let observedNs = 0;
  let lab: Lab | undefined;
  const poll = () => {
    if (lab === undefined || t0 === undefined) return;
    const counters = lab.counters();
    if (counters !== undefined)
      files.datapath.write({ t: Number(process.hrtime.bigint() - t0), ...counters });
    flows?.take(lab.flows());
  };
  files.writeText('scenario.yaml', scenarioText);
  const env = runEnvironment(nativeVersionOrNull());
  files.writeJson('env.json', env);
  const hooks: ShellHooks = {
    opened(l, start) {
      lab = l;
      t0 = start;
      flows = new FlowLog(files.flows, start, compiled);
      timer = setInterval(poll, 1000);
    },
    phase(change) {
      const e: MeasureEvent = { ev: 'phase', phase: change.phase, t: change.appliedNs };
      files.events.write(e);
      events.push(e);
      poll();
    },
    closed(l) {
      clearInterval(timer);
      if (t0 !== undefined) observedNs = Number(process.hrtime.bigint() - t0);
      flows?.finish(l.flows());
    },
  };
  return {
    hooks,
    capture: captureConfig(compiled, pcap, dir),
    async finish(interrupted) {
      clearInterval(timer);
      if (lab === undefined) {
        await files.close();
        return undefined;
      }
      // The shell lasted as long as its command: that is the run's length.
      const length = Math.max(1, observedNs);
      const ran: CompiledConfig = { ...compiled, duration_ns: length };
      files.writeJson('compiled.json', ran);
      const summary = summarizeRun({
        compiled: ran,
        phases: phasesOf(ran.timeline, length),
        events,
        flows: flows?.lines ?? [],
        startedAt,
        observedNs: length,
        interrupted,
        labId: lab.names.id,
        warnings: [],
        capture: lab.captured,
      });
      await files.close();
      writeSummary(
        files,
        summary,
        {
          compiled: ran,
          scenarioText,
          events,
          env,
          datapath: files.datapath,
          flows: flows?.lines,
        },
        err,
      );
      // On a terminal, what was measured; in a script the shell's output stays the command's.
      if ((err as { isTTY?: boolean }).isTTY === true) {
        const table = flowsTable(summary.flows);
        err.write(
          `${table === '' ? 'qoslab: no flow crossed the lab' : `\n${table}`}\nqoslab: results: ${dir}\n`,
        );
      }
      return summary;
    },
  };
}
