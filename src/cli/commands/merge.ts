import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { ExitCode } from '../../errors.js';
import { realFolderNote } from '../../run/out-path.js';
import { resultsDir } from '../../run/results.js';
import { mergeSweeps } from '../../sweep/merge.js';
import { writeMerged } from '../../sweep/merge-output.js';
import type { CommandContext } from '../context.js';

interface MergeArgs {
  dirs: string[];
  out?: string;
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
        .example('$0 merge sw-1 sw-2 --out sw', 'two shards into one')
        .epilog(
          'Exit codes: 0 every run of the matrix found, 1 some are missing (named; the rest is still merged), 2 bad usage or folders from different sweeps.',
        ),
    handler: (args) => {
      const merged = mergeSweeps(args.dirs);
      const dir = args.out
        ? resolve(args.out)
        : resultsDir(`merge-${merged.manifest.scenario}`, undefined);
      const { text } = writeMerged(merged, dir);
      const linked = args.out === undefined ? undefined : realFolderNote('--out', args.out, dir);
      if (linked !== undefined) ctx.err.write(`qoslab: ${linked}\n`);
      ctx.out.write(`${text}\nmerged: ${dir}\n`);
      ctx.exitCode = merged.missing.length > 0 ? ExitCode.expectFailed : ExitCode.ok;
    },
  };
}
