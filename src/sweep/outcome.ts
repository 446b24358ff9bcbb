/**
 * A sweep shard's exit code from its runs. A run that completed (its expectations held,
 * failed, or could not be judged) ran; one that failed (an agent died, a resource
 * fault) or raised an error could not. `--fail-on runs` makes only the latter fail the
 * shard: CI stays green on measured results that miss a bound (a sweep that varies the
 * link rate fails a fixed goodput bound in most cells by design) and red when the
 * instrument could not measure.
 */
import { ExitCode } from '../errors.js';

export type FailOn = 'expectations' | 'runs';

export interface RunOutcome {
  status: string;
  /** null: the run raised an error before it had an exit code of its own. */
  exit_code: number | null;
}

export function sweepExitCode(runs: RunOutcome[], failOn: FailOn): number {
  if (runs.some((r) => r.exit_code === ExitCode.interrupted)) return ExitCode.interrupted;
  // A run whose results disk filled or vanished completed, but the instrument failed it.
  if (runs.some((r) => r.exit_code === ExitCode.resourceFault)) return ExitCode.resourceFault;
  const broken = runs.filter((r) => r.status !== 'completed');
  if (broken.length > 0) {
    // The most specific code the runs gave (a resource fault's over a dead agent's).
    return Math.max(ExitCode.runFailed, ...broken.map((r) => r.exit_code ?? ExitCode.runFailed));
  }
  if (failOn === 'runs') return ExitCode.ok;
  const codes = runs.map((r) => r.exit_code ?? ExitCode.runFailed).filter((c) => c !== 0);
  if (codes.includes(ExitCode.expectFailed)) return ExitCode.expectFailed;
  return codes.length > 0 ? Math.max(...codes) : ExitCode.ok;
}
