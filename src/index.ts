/** Programmatic API. */
export { Lab, type LabOptions } from './orchestrate/lab.js';
export { runShell, type ShellOptions } from './orchestrate/shell.js';
export { runChecks, type CheckResult } from './orchestrate/checks.js';
export { cleanupLeftovers, type CleanupReport } from './orchestrate/cleanup.js';
export {
  QoslabError,
  UsageError,
  EnvironmentError,
  LabError,
  ResourceError,
  ExitCode,
} from './errors.js';
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
export {
  run,
  type RunOptions,
  type RunResult,
  type RunSummary,
  type RunStatus,
} from './run/run.js';
export {
  summarize,
  checkExpectations,
  type WorkloadStats,
  type ScopeStats,
  type DirectionStats,
  type ExpectationResult,
  type VoiceStats,
  type LatencyStats,
  type Phase,
} from './metrics/index.js';
export type * from './record/events.js';
