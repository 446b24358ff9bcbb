/** The scenario layer: schema, units, loading with located errors, compiler, library. */
export { ScenarioSchema, scenarioJsonSchema, type Scenario, type ScenarioInput } from './schema.js';
export {
  validateScenarioText,
  parseScenarioText,
  loadScenarioFile,
  type Validation,
} from './load.js';
export { ScenarioError, formatProblem, type Problem } from './errors.js';
export { compileScenario, type CompileOptions } from './compile.js';
export type * from './compiled.js';
export {
  DEFAULT_SCENARIO,
  LIBRARY_DIR,
  resolveScenario,
  loadScenario,
  listLibrary,
  libraryNames,
  type ResolvedScenario,
  type LoadedScenario,
  type LibraryEntry,
} from './library.js';
