import { dirname } from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { commandProblem } from '../orchestrate/command-path.js';
import { UsageError } from '../errors.js';
import { phasesOf } from '../metrics/phases.js';
import type { LoadedScenario } from '../scenario/library.js';
import type { CompiledConfig } from '../scenario/compiled.js';
import { budgetProblems } from '../scenario/budget.js';
import { formatProblem, type Problem } from '../scenario/errors.js';
import { formatPath } from '../scenario/load.js';
import { durationText } from '../scenario/units.js';
// The scenario-side registry says which protocols have an agent: importing the agents
// themselves would load their client and server libraries into every CLI command.
import { PROTOCOLS } from '../scenario/protocols/index.js';
import { commandWorkloads, programPath } from './commands.js';
import { PROGRAMS_KEY } from '../scenario/protocols/command.js';

/** The scenario file's folder: where `command` programs run and relative paths start. */
export function scenarioDir(loaded: LoadedScenario): string {
  return dirname(loaded.resolved.path);
}

/** file:line:col of a key path in the scenario's text (1:1 when it cannot be found). */
export function locate(text: string, path: (string | number)[]): { line: number; col: number } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const node = doc.getIn(path, true);
  if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]);
  return { line: 1, col: 1 };
}

/**
 * The compiled scenario with the run's overrides: `--seed` replaces the seed; a shorter
 * `--duration` cuts the timeline and the workloads' stop times; a longer one extends the
 * last phase: workloads that ran until the scenario's end run until the new end.
 */
export function withOverrides(
  compiled: CompiledConfig,
  o: { durationNs?: number; seed?: number },
): CompiledConfig {
  const duration = o.durationNs ?? compiled.duration_ns;
  const planned = compiled.duration_ns;
  return {
    ...compiled,
    seed: o.seed ?? compiled.seed,
    duration_ns: duration,
    timeline: compiled.timeline.filter((e) => e.at_ns < duration),
    workloads: compiled.workloads.map((w) => ({
      ...w,
      stop_ns: w.stop_ns >= planned ? duration : Math.min(w.stop_ns, duration),
    })),
  };
}

const secs = (ns: number) => `${+(ns / 1e9).toFixed(3)} s`;

/** What a `--duration` override changes, said before the run starts. */
export function lengthNotes(planned: CompiledConfig, run: CompiledConfig): string[] {
  if (run.duration_ns === planned.duration_ns) return [];
  const notes: string[] = [];
  const all = phasesOf(planned.timeline, planned.duration_ns);
  const kept = phasesOf(run.timeline, run.duration_ns);
  if (run.duration_ns > planned.duration_ns) {
    const last = kept[kept.length - 1]?.name ?? 'main';
    notes.push(
      `--duration ${secs(run.duration_ns)} is longer than the scenario (${secs(planned.duration_ns)}): phase '${last}' and the workloads running at its end continue until ${secs(run.duration_ns)}`,
    );
    return notes;
  }
  notes.push(
    `--duration ${secs(run.duration_ns)} cuts the scenario (${secs(planned.duration_ns)})`,
  );
  for (const p of all) {
    if (p.start >= run.duration_ns) {
      notes.push(
        `phase '${p.name}' (from ${secs(p.start)}) is not reached; its expectations are reported as not reached`,
      );
    } else if (p.end > run.duration_ns) {
      notes.push(`phase '${p.name}' ends at ${secs(run.duration_ns)} instead of ${secs(p.end)}`);
    }
  }
  for (const w of planned.workloads) {
    if (w.start_ns >= run.duration_ns) {
      notes.push(`workload '${w.name}' (from ${secs(w.start_ns)}) never starts`);
    }
  }
  return notes;
}

/**
 * The largest message (or bulk object) an agent sends: each is built in memory on both
 * sides, and a message far beyond a link's per-second budget measures nothing useful.
 */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * The programs `command` workloads name: refused without `allowCommands` (a shared
 * scenario must not run programs silently, docs/security.md), else each must exist.
 */
function commandProblems(
  loaded: LoadedScenario,
  compiled: CompiledConfig,
  file: string,
  allowCommands: boolean,
): Problem[] {
  const problems: Problem[] = [];
  for (const w of commandWorkloads(compiled.workloads)) {
    const i = compiled.workloads.indexOf(w);
    const roles = (['server', 'client'] as const).filter((r) => w.command[r] !== null);
    if (!allowCommands) {
      const programs = roles.map((r) => `${r} ${w.command[r]![0]}`).join(', ');
      problems.push({
        file,
        ...locate(loaded.text, ['workloads', i, PROGRAMS_KEY]),
        path: `workloads[${i}].${PROGRAMS_KEY}`,
        message: `runs programs (${programs}); pass --allow-commands to let this scenario run them`,
      });
      continue;
    }
    for (const role of roles) {
      const program = programPath(w.command[role]![0]!, scenarioDir(loaded));
      const why = commandProblem(program);
      if (why === undefined) continue;
      problems.push({
        file,
        ...locate(loaded.text, ['workloads', i, PROGRAMS_KEY, role]),
        path: `workloads[${i}].${PROGRAMS_KEY}.${role}`,
        message: why.message,
      });
    }
  }
  return problems;
}

/** Workloads `run` cannot carry, as located problems (exit 2). */
export function checkRunnable(
  loaded: LoadedScenario,
  compiled: CompiledConfig,
  options: { allowCommands: boolean } = { allowCommands: false },
): void {
  const file = loaded.resolved.fromLibrary
    ? `scenarios/${loaded.resolved.name}.yaml`
    : loaded.resolved.path;
  const problems: Problem[] = [];
  compiled.workloads.forEach((w, i) => {
    if (PROTOCOLS[w.protocol].agent) return;
    const path = ['workloads', i, 'protocol'];
    problems.push({
      file,
      ...locate(loaded.text, path),
      path: `workloads[${i}].protocol`,
      message: `protocol '${w.protocol}' has no workload agent yet; qoslab run supports ${Object.entries(
        PROTOCOLS,
      )
        .filter(([, p]) => p.agent)
        .map(([name]) => name)
        .join(', ')}`,
    });
  });
  compiled.workloads.forEach((w, i) => {
    if (w.size_bytes <= MAX_MESSAGE_BYTES) return;
    const path = ['workloads', i, 'size'];
    problems.push({
      file,
      ...locate(loaded.text, path),
      path: `workloads[${i}].size`,
      message: `messages of ${w.size_bytes} bytes are larger than qoslab run sends (at most 16MiB)`,
    });
  });
  problems.push(...commandProblems(loaded, compiled, file, options.allowCommands));
  // The file's own plan passed `validate`; --duration or --phase may have changed it.
  const longer = compiled.duration_ns !== loaded.compiled.duration_ns;
  for (const u of budgetProblems(loaded.scenario, compiled)) {
    problems.push({
      file,
      ...locate(loaded.text, u.path),
      path: formatPath(u.path),
      message: longer
        ? `${u.message} (with --duration ${durationText(compiled.duration_ns)})`
        : u.message,
    });
  }
  if (problems.length > 0) {
    throw new UsageError(`${file} cannot be run:\n${problems.map(formatProblem).join('\n')}`, [
      '`qoslab validate` checks the file itself; these are limits of `qoslab run`',
    ]);
  }
}
