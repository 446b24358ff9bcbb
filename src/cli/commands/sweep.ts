import type { CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { parseDuration } from '../../scenario/units.js';
import { parseSet, shardOf } from '../../sweep/matrix.js';
import type { FailOn } from '../../sweep/outcome.js';
import { runSweep } from '../../sweep/sweep.js';
import type { CommandContext } from '../context.js';
import { ALLOW_PATH_OPTION, allowanceOf, type AllowArgs } from '../allow.js';

interface SweepArgs extends AllowArgs {
  scenario: string;
  set?: string[];
  repeat: number;
  seed?: number;
  duration?: string;
  shard?: string;
  out?: string;
  'allow-commands': boolean;
  resume: boolean;
  force: boolean;
  'fail-on': FailOn;
  quiet: boolean;
  junit?: string;
  'summary-md'?: string;
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
        .option('allow-path', ALLOW_PATH_OPTION)
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
        .option('resume', {
          type: 'boolean',
          default: false,
          describe:
            'Keep the runs already complete in --out and re-run the rest (a retried shard or Kubernetes index)',
        })
        .option('force', {
          type: 'boolean',
          default: false,
          describe: 'Re-run every run of the shard over what --out holds (another sweep included)',
        })
        .option('fail-on', {
          choices: ['expectations', 'runs'] as const,
          default: 'expectations' as FailOn,
          describe:
            'expectations: a failed expectation fails the exit code; runs: only runs that could not run or measure do (failed expectations are still reported)',
        })
        .option('quiet', {
          type: 'boolean',
          default: false,
          describe: 'No progress lines (warnings and errors still)',
        })
        .option('junit', {
          type: 'string',
          describe: "Also write the shard's runs as JUnit XML to FILE (a test suite per run)",
        })
        .option('summary-md', {
          type: 'string',
          describe:
            'Also write a Markdown summary of the runs to FILE; without FILE, append to $GITHUB_STEP_SUMMARY',
        })
        .example(
          '$0 sweep link-lossy-wifi --set network.downlink.rate=1mbit,10mbit --repeat 3 --out sw',
          'two cells, three runs each',
        )
        .example('$0 sweep my.yaml --set ... --shard 2/4 --out sw-2', 'the second of four shards')
        .example(
          '$0 sweep my.yaml --set ... --out sw --resume --fail-on runs --junit junit.xml',
          'in CI: retry into the same folder; red only when a run could not run',
        )
        .epilog(
          'Exit codes: 0 every run of the shard ok (with --fail-on runs: every run completed), 1 a run failed an expectation, 2 bad usage or scenario, or --out holds earlier runs without --resume/--force (before any run), 3 no lab possible, 4 a run could not measure (an agent died or hung), 130 interrupted.',
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
        allow: allowanceOf(args),
        axes,
        repeat: args.repeat,
        seed: args.seed,
        durationNs,
        shard: shardOf(args.shard),
        outDir: args.out,
        allowCommands: args['allow-commands'],
        resume: args.resume,
        force: args.force,
        failOn: args['fail-on'],
        quiet: args.quiet,
        ci: { junit: args.junit, summaryMd: args['summary-md'] },
        out: ctx.out,
        err: ctx.err,
      });
      if (!args.quiet) for (const path of result.written) ctx.out.write(`wrote ${path}\n`);
      ctx.exitCode = result.exitCode;
    },
  };
}
