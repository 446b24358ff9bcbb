/** Programmatic API. */
export { Lab, type LabOptions } from './orchestrate/lab.js';
export { runShell, type ShellOptions } from './orchestrate/shell.js';
export { runChecks, type CheckResult } from './orchestrate/checks.js';
export { cleanupLeftovers, type CleanupReport } from './orchestrate/cleanup.js';
export { QoslabError, UsageError, EnvironmentError, LabError, ExitCode } from './errors.js';
export type { LabCounters, DirectionCounters, DropCounters } from './native/index.js';
export {
  loadScenario,
  resolveScenario,
  compileScenario,
  listLibrary,
  ScenarioError,
  type LoadedScenario,
  type Scenario,
  type CompiledConfig,
} from './scenario/index.js';
