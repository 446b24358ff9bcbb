/**
 * Errors a user can act on. Each carries a stable `code`, the process exit code it maps
 * to (docs/architecture.md "Exit codes and results": 2 bad usage, 3 environment cannot
 * host a lab, 6 the instrument's own resources failed) and optional advice.
 */

export const ExitCode = {
  ok: 0,
  expectFailed: 1,
  usage: 2,
  environment: 3,
  /** The run could not measure what it set out to: a workload agent died or went silent. */
  runFailed: 4,
  /**
   * The run completed but judged nothing: every expectation was `not reached` or `not
   * measured` (a `--duration` that ends before the phase they are about, a lab stall over
   * all of them). A pass there would be a CI job that tested nothing.
   */
  unjudged: 5,
  /**
   * The instrument's own resources failed: the results disk filled up, the results folder
   * vanished, a results file could not be written. Not a network finding.
   */
  resourceFault: 6,
  interrupted: 130,
} as const;

export class QoslabError extends Error {
  readonly code: string;
  readonly exitCode: number;
  /** Lines telling the user how to fix it. */
  readonly advice: string[];

  constructor(code: string, message: string, exitCode: number, advice: string[] = []) {
    super(message);
    this.name = 'QoslabError';
    this.code = code;
    this.exitCode = exitCode;
    this.advice = advice;
  }
}

/** The exit code an error ends the process with (the CLI's printError): a bug's is 1. */
export function exitCodeOf(error: unknown): number {
  return error instanceof QoslabError ? error.exitCode : 1;
}

/** Bad command line or input: exit 2. */
export class UsageError extends QoslabError {
  constructor(message: string, advice: string[] = []) {
    super('QL_USAGE', message, ExitCode.usage, advice);
    this.name = 'UsageError';
  }
}

/** The machine cannot host a lab (no privilege, no TUN, no iproute2): exit 3. */
export class EnvironmentError extends QoslabError {
  constructor(message: string, advice: string[] = []) {
    super('QL_ENVIRONMENT', message, ExitCode.environment, advice);
    this.name = 'EnvironmentError';
  }
}

/**
 * A `command` workload's program could not be brought up (exited, never ready): the run
 * cannot measure what it set out to, exit 4 as for a dead agent.
 */
export class CommandError extends QoslabError {
  constructor(message: string, advice: string[] = []) {
    super('QL_COMMAND', message, ExitCode.runFailed, advice);
    this.name = 'CommandError';
  }
}

/** A lab operation (namespace, device, address) failed after the checks passed. */
export class LabError extends QoslabError {
  constructor(message: string, advice: string[] = []) {
    super('QL_LAB', message, ExitCode.environment, advice);
    this.name = 'LabError';
  }
}

/**
 * The instrument's own resources failed (no space left, the results folder removed, a
 * file that cannot be written): exit 6, never "an expectation failed" or "a bug".
 */
export class ResourceError extends QoslabError {
  constructor(message: string, advice: string[] = []) {
    super('QL_RESOURCE', message, ExitCode.resourceFault, advice);
    this.name = 'ResourceError';
  }
}
