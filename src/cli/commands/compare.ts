import type { CommandModule } from 'yargs';
import { compareSummaries, compareTable } from '../../report/compare.js';
import { loadRun } from '../../report/load.js';
import type { CommandContext } from '../context.js';

interface CompareArgs {
  run_a: string;
  run_b: string;
  json: boolean;
}

export function compareCommand(ctx: CommandContext): CommandModule<object, CompareArgs> {
  return {
    command: 'compare <run_a> <run_b>',
    describe: 'Compare two runs metric by metric, per workload and phase (B − A)',
    builder: (y) =>
      y
        .positional('run_a', {
          type: 'string',
          demandOption: true,
          describe: 'The reference run directory',
        })
        .positional('run_b', {
          type: 'string',
          demandOption: true,
          describe: 'The run directory to compare',
        })
        .option('json', { type: 'boolean', default: false, describe: 'Print the rows as JSON' })
        .example('$0 compare results/baseline results/throttled', 'what the throttling changed'),
    handler: (args) => {
      const a = loadRun(args.run_a);
      const b = loadRun(args.run_b);
      const c = compareSummaries(a.summary, b.summary, { a: a.dir, b: b.dir });
      ctx.out.write(args.json ? `${JSON.stringify(c, null, 2)}\n` : `${compareTable(c)}\n`);
    },
  };
}
