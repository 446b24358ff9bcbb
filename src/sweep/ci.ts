/**
 * JUnit and a Markdown job summary for many runs: a sweep shard's (`sweep --junit
 * --summary-md`) and a merge's, where a run missing from the merge is an error case of its
 * own, so a lost shard shows as red tests, not as fewer green ones.
 */
import { writeCiFiles, type CiTargets } from '../report/ci-outputs.js';
import { junitRunsXml, type JunitRun } from '../report/junit.js';
import { runsMarkdown, type RunsMdRow } from '../report/summary-md.js';
import type { RunSummary } from '../record/summary.js';
import { failedSummary } from '../run/finish.js';

export interface CiRun {
  cell: string;
  rep: number;
  params: Record<string, string>;
  /** The run's summary; absent for a run missing from a merge (then `missing` says why). */
  summary?: RunSummary;
  dir?: string;
  missing?: string;
}

const paramsText = (p: Record<string, string>) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ') || '(scenario as is)';

export function writeRunsCi(
  targets: CiTargets,
  scenario: string,
  title: string,
  headline: string,
  runs: CiRun[],
): string[] {
  const suites = (): JunitRun[] =>
    runs.map((r) => ({
      label: `${r.cell}.rep-${r.rep}`,
      resultsDir: r.dir,
      summary:
        r.summary ??
        failedSummary({
          scenario,
          startedAt: new Date(),
          error: `missing from the merge: ${r.missing ?? 'no run'}`,
          exitCode: 1,
        }),
    }));
  const rows = (): RunsMdRow[] =>
    runs.map((r) => ({
      run: `${r.cell} rep ${r.rep}`,
      params: paramsText(r.params),
      summary: r.summary,
      missing: r.missing,
    }));
  return writeCiFiles(
    targets,
    () => junitRunsXml(suites()),
    () => runsMarkdown(title, headline, rows()),
  );
}
