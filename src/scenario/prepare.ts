/**
 * From a scenario's text to what `run`, `simulate`, `shell` and `sweep` start from, with
 * every check `validate` makes: the schema and references (load.ts), the files it names
 * (files.ts), and the plan's budget (budget.ts), all located in the file. One function,
 * so `validate` ok means the other commands accept the file too.
 */
import { dirname } from 'node:path';
import { budgetProblems } from './budget.js';
import { compileScenario } from './compile.js';
import type { CompiledConfig } from './compiled.js';
import { ScenarioError, type Problem } from './errors.js';
import { NO_ALLOWANCE, readNamedFiles, type FileAllowance, type TraceSet } from './files.js';
import { validateScenarioText } from './load.js';
import type { Scenario } from './schema.js';

export interface PrepareOptions {
  /** The scenario file's path: files it names resolve against its folder. */
  path: string;
  /** Name when the scenario has none (the file name without extension). */
  name: string;
  allow?: FileAllowance;
}

export interface Prepared {
  scenario: Scenario;
  compiled: CompiledConfig;
  /** The traces it names, read and parsed (the core gets these, never the paths). */
  traces: TraceSet;
}

/** Every problem of the text as a file at `o.path`, or the prepared scenario. */
export function checkScenario(
  text: string,
  display: string,
  o: PrepareOptions,
): { ok: true; prepared: Prepared } | { ok: false; problems: Problem[] } {
  const v = validateScenarioText(text, display);
  if (!v.ok) return v;
  const files = readNamedFiles(v.scenario, dirname(o.path), o.allow ?? NO_ALLOWANCE);
  const compiled = compileScenario(v.scenario, { name: o.name, baseDir: dirname(o.path) });
  const problems = v.locate([...files.problems, ...budgetProblems(v.scenario, compiled)]);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, prepared: { scenario: v.scenario, compiled, traces: files.traces } };
}

/** As checkScenario, throwing a ScenarioError (exit 2) with every problem. */
export function prepareScenario(text: string, display: string, o: PrepareOptions): Prepared {
  const r = checkScenario(text, display, o);
  if (!r.ok) throw new ScenarioError(display, r.problems);
  return r.prepared;
}
