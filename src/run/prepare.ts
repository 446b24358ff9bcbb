import { LineCounter, parseDocument, isNode } from 'yaml';
import { UsageError } from '../errors.js';
import type { LoadedScenario } from '../scenario/library.js';
import type { CompiledConfig } from '../scenario/compiled.js';
import { formatProblem, type Problem } from '../scenario/errors.js';
import { PROTOCOLS } from '../workloads/index.js';

/** file:line:col of a key path in the scenario's text (1:1 when it cannot be found). */
export function locate(text: string, path: (string | number)[]): { line: number; col: number } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const node = doc.getIn(path, true);
  if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]);
  return { line: 1, col: 1 };
}

/**
 * The compiled scenario with the run's overrides: `--duration` cuts the timeline and the
 * workloads' stop times, `--seed` replaces the seed.
 */
export function withOverrides(
  compiled: CompiledConfig,
  o: { durationNs?: number; seed?: number },
): CompiledConfig {
  const duration = o.durationNs ?? compiled.duration_ns;
  return {
    ...compiled,
    seed: o.seed ?? compiled.seed,
    duration_ns: duration,
    timeline: compiled.timeline.filter((e) => e.at_ns < duration),
    workloads: compiled.workloads.map((w) => ({ ...w, stop_ns: Math.min(w.stop_ns, duration) })),
  };
}

/** Workloads `run` cannot carry, as located problems (exit 2). */
export function checkRunnable(loaded: LoadedScenario, compiled: CompiledConfig): void {
  const file = loaded.resolved.fromLibrary
    ? `scenarios/${loaded.resolved.name}.yaml`
    : loaded.resolved.path;
  const problems: Problem[] = [];
  compiled.workloads.forEach((w, i) => {
    if (PROTOCOLS[w.protocol] !== undefined) return;
    const path = ['workloads', i, 'protocol'];
    problems.push({
      file,
      ...locate(loaded.text, path),
      path: `workloads[${i}].protocol`,
      message: `protocol '${w.protocol}' has no workload agent yet; qoslab run supports ${Object.keys(PROTOCOLS).join(', ')}`,
    });
  });
  if (problems.length > 0) {
    throw new UsageError(`${file} cannot be run:\n${problems.map(formatProblem).join('\n')}`, [
      '`qoslab validate` checks the file itself; these are limits of `qoslab run`',
    ]);
  }
}
