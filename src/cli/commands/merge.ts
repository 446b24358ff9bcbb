import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { ExitCode } from '../../errors.js';
import { prepareResultsDir, realFolderNote } from '../../run/out-path.js';
import { resultsDir } from '../../run/results.js';
import { mergeSweeps } from '../../sweep/merge.js';
import { writeMerged, writeMergedCi } from '../../sweep/merge-output.js';
import { ciTargets } from '../../report/ci-outputs.js';
import type { CommandContext } from '../context.js';

interface MergeArgs {
  dirs: string[];
  out?: string;
  junit?: string;
  'summary-md'?: string;
}

export function mergeCommand(ctx: CommandContext): CommandModule<object, MergeArgs> {
  return {
    command: 'merge <dirs..>',
    describe: "Join a sweep's shard folders: one summary, CSV and report with the matrix",
    builder: (y) =>
      y
        .positional('dirs', {
          type: 'string',
          array: true,
          demandOption: true,
          describe: 'Folders `qoslab sweep` wrote (one per shard, or one shared)',
        })
        .option('out', {
          type: 'string',
          describe:
            'Where merged.json, matrix.csv and report.html go (default results/<UTC time>-merge-<name>)',
        })
        .option('junit', {
          type: 'string',
          describe:
            'Also write every run as JUnit XML to FILE (a test suite per run; a missing run is an error)',
        })
        .option('summary-md', {
          type: 'string',
          describe:
            'Also write a Markdown summary of the runs to FILE; without FILE, append to $GITHUB_STEP_SUMMARY',
        })
        .example('$0 merge sw-1 sw-2 --out sw', 'two shards into one')
        .example(
          '$0 merge shards/* --out merged --junit junit.xml --summary-md',
          'in CI: whatever shards arrived, with test results and a job summary',
        )
        .epilog(
          'Exit codes: 0 every run of the matrix found, 1 some are missing (named, as are folders that are not there; the rest is still merged), 2 bad usage, no readable sweep folder, or folders from different sweeps.',
        ),
    handler: (args) => {
      const merged = mergeSweeps(args.dirs);
      const dir = args.out
        ? resolve(args.out)
        : resultsDir(`merge-${merged.manifest.scenario}`, undefined);
      prepareResultsDir(dir, true);
      // Checked once --out exists (they may go in it), before anything is written.
      const ci = ciTargets({ junit: args.junit, summaryMd: args['summary-md'] });
      const { text } = writeMerged(merged, dir);
      const linked = args.out === undefined ? undefined : realFolderNote('--out', args.out, dir);
      if (linked !== undefined) ctx.err.write(`qoslab: ${linked}\n`);
      ctx.out.write(`${text}\nmerged: ${dir}\n`);
      for (const path of writeMergedCi(merged, ci)) ctx.out.write(`wrote ${path}\n`);
      ctx.exitCode = merged.missing.length > 0 ? ExitCode.expectFailed : ExitCode.ok;
    },
  };
}
