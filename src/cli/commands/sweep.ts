import type { CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { parseDuration } from '../../scenario/units.js';
import { parseSet, shardOf } from '../../sweep/matrix.js';
import { runSweep } from '../../sweep/sweep.js';
import type { CommandContext } from '../context.js';

interface SweepArgs {
  scenario: string;
  set?: string[];
  repeat: number;
  seed?: number;
  duration?: string;
  shard?: string;
  out?: string;
  'allow-commands': boolean;
}

export function sweepCommand(ctx: CommandContext): CommandModule<object, SweepArgs> {
  return {
    command: 'sweep <scenario>',
    describe: 'Run a scenario over a matrix of settings, repeated; --shard runs one slice',
    builder: (y) =>
      y
        .positional('scenario', {
          type: 'string',
          demandOption: true,
          describe: 'Library name or scenario file',
        })
        .option('set', {
          type: 'string',
          array: true,
          describe: 'An axis: KEY.PATH=V1,V2,... (repeat for more axes; cells are their product)',
        })
        .option('repeat', { type: 'number', default: 1, describe: 'Runs per cell' })
        .option('seed', {
          type: 'number',
          describe: "Seed of repetition 0 (default the scenario's); repetition r uses seed + r",
        })
        .option('duration', { type: 'string', describe: "Override each run's duration (e.g. 10s)" })
        .option('shard', {
          type: 'string',
          describe:
            'Run only slice i of n (i/n, 1-based); default from JOB_COMPLETION_INDEX and JOB_COMPLETIONS, else 1/1',
        })
        .option('out', {
          type: 'string',
          describe:
            'Sweep folder (default results/<UTC time>-sweep-<name>); runs go to <out>/<cell>/rep-<r>',
        })
        .option('allow-commands', {
          type: 'boolean',
          default: false,
          describe: 'Let the scenario run the programs its `command` workloads name (as `run`)',
        })
        .example(
          '$0 sweep link-lossy-wifi --set network.downlink.rate=1mbit,10mbit --repeat 3 --out sw',
          'two cells, three runs each',
        )
        .example('$0 sweep my.yaml --set ... --shard 2/4 --out sw-2', 'the second of four shards')
        .epilog(
          'Exit codes: 0 every run of the shard ok, 1 a run failed an expectation or failed, 2 bad usage or scenario (before any run), 3 no lab possible, 130 interrupted.',
        ),
    handler: async (args) => {
      const axes = (args.set ?? []).map(parseSet);
      let durationNs: number | undefined;
      if (args.duration !== undefined) {
        const d = parseDuration(args.duration);
        if (!d.ok || !(d.value > 0)) {
          throw new UsageError(
            `--duration must be a positive duration like 30s, got '${args.duration}'`,
          );
        }
        durationNs = d.value;
      }
      if (args.seed !== undefined && !Number.isSafeInteger(args.seed)) {
        throw new UsageError(`--seed must be an integer, got ${args.seed}`);
      }
      const result = await runSweep({
        scenario: args.scenario,
        axes,
        repeat: args.repeat,
        seed: args.seed,
        durationNs,
        shard: shardOf(args.shard),
        outDir: args.out,
        allowCommands: args['allow-commands'],
        out: ctx.out,
        err: ctx.err,
      });
      ctx.exitCode = result.exitCode;
    },
  };
}
