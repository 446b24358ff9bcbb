import { basename } from 'node:path';
import type { CommandModule } from 'yargs';
import { exitCodeOf, UsageError } from '../../errors.js';
import { ciTargets, writeCiOutputs } from '../../report/ci-outputs.js';
import { failedSummary } from '../../run/finish.js';
import { run } from '../../run/run.js';
import { DEFAULT_SCENARIO } from '../../scenario/library.js';
import { parseDuration } from '../../scenario/units.js';
import type { CommandContext } from '../context.js';
import { ALLOW_PATH_OPTION, allowanceOf, type AllowArgs } from '../allow.js';

/** A scenario as named on the command line: a library name, or a file's name without its extension. */
function scenarioLabel(scenario: string | undefined): string {
  return scenario === undefined
    ? DEFAULT_SCENARIO
    : basename(scenario).replace(/\.(ya?ml|json)$/i, '');
}

interface RunArgs extends AllowArgs {
  scenario?: string;
  duration?: string;
  out?: string;
  seed?: number;
  force: boolean;
  phase?: string;
  json: boolean;
  quiet: boolean;
  'allow-unjudged': boolean;
  junit?: string;
  'summary-md'?: string;
  'allow-commands': boolean;
  pcap: boolean;
}

export function runCommand(ctx: CommandContext): CommandModule<object, RunArgs> {
  return {
    command: 'run [scenario]',
    describe: 'Run a scenario: workloads across the lab, measured, results on disk',
    builder: (y) =>
      y
        .positional('scenario', {
          type: 'string',
          describe: 'Library name or scenario file (default: messengers)',
        })
        .option('duration', {
          type: 'string',
          describe:
            "Override the scenario's duration (e.g. 30s, 2m): shorter cuts the timeline, longer extends the last phase",
        })
        .option('out', {
          type: 'string',
          describe: 'Results folder (default results/<UTC time>-<name>)',
        })
        .option('seed', {
          type: 'number',
          describe: "Override the scenario's seed (an integer from 0 to 2^53-1)",
          coerce: (seed: number) => {
            if (!Number.isSafeInteger(seed) || seed < 0) {
              throw new UsageError(
                `--seed must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got ${seed}`,
              );
            }
            return seed;
          },
        })
        .option('force', {
          type: 'boolean',
          default: false,
          describe: 'Write into an --out folder that holds an earlier run',
        })
        .option('phase', {
          type: 'string',
          describe:
            'Start at this phase of the timeline, its policies in force from the first packet (expectations about earlier phases are skipped)',
        })
        .option('json', {
          type: 'boolean',
          default: false,
          describe: 'Print summary.json instead of the table',
        })
        .option('quiet', { type: 'boolean', default: false, describe: 'No progress, no table' })
        .option('pcap', {
          type: 'boolean',
          default: false,
          describe:
            "Write capture.pcapng in the results: every packet before and after shaping, and those dropped with the reason (the scenario's `capture` sets snap length, file size and which flows)",
        })
        .option('allow-commands', {
          type: 'boolean',
          default: false,
          describe:
            'Let the scenario run the programs its `command` workloads name (refused without it: a shared scenario must not run programs silently)',
        })
        .option('allow-path', ALLOW_PATH_OPTION)
        .option('allow-unjudged', {
          type: 'boolean',
          default: false,
          describe:
            'Exit 0, not 5, when every expectation was not reached or not measured (exploratory runs)',
        })
        .option('junit', {
          type: 'string',
          describe: 'Also write the expectations as JUnit XML to FILE (for CI test reports)',
        })
        .option('summary-md', {
          type: 'string',
          describe:
            'Also write a Markdown summary to FILE; without FILE, append to $GITHUB_STEP_SUMMARY',
        })
        .example('$0 run', 'the default scenario (messengers)')
        .example('$0 run link-lossy-wifi --duration 20s', 'a library scenario, shortened')
        .example(
          '$0 run ru-2021-twitter-sni-policer --phase throttled --duration 20s',
          'only the throttled phase',
        )
        .example('$0 run --junit junit.xml --summary-md', 'in CI: test results and a job summary')
        .epilog(
          "Exit codes: 0 ok, 1 an expectation failed, 2 bad scenario or usage, 3 no lab possible, 4 the run failed (a workload agent died or hung, or the run reached its event budget; results up to then are written), 5 nothing was judged (every expectation not reached or not measured; --allow-unjudged makes it 0), 6 the instrument's own resources failed (results disk full, results folder removed, a file that cannot be written; what was measured is kept or printed), 130 interrupted (results still written).",
        ),
    handler: async (args) => {
      let durationNs: number | undefined;
      if (args.duration !== undefined) {
        const d = parseDuration(args.duration);
        if (!d.ok || !(d.value > 0)) {
          throw new UsageError(
            `--duration must be a positive duration like 30s or 2m, got '${args.duration}'`,
          );
        }
        durationNs = d.value;
      }
      // Checked before the lab: a bad path must not cost a whole run.
      const targets = ciTargets({ junit: args.junit, summaryMd: args['summary-md'] });
      const startedAt = new Date();
      const result = await run({
        scenario: args.scenario,
        allow: allowanceOf(args),
        durationNs,
        outDir: args.out,
        force: args.force,
        seed: args.seed,
        phase: args.phase,
        json: args.json,
        quiet: args.quiet,
        allowCommands: args['allow-commands'],
        pcap: args.pcap,
        allowUnjudged: args['allow-unjudged'],
        out: ctx.out,
        err: ctx.err,
      }).catch((error: unknown) => {
        // A run that could not start still leaves its CI outputs: a job whose run failed
        // at start-up must not read as one with no tests.
        writeCiOutputs(
          failedSummary({
            scenario: scenarioLabel(args.scenario),
            startedAt,
            error: error instanceof Error ? error.message : String(error),
            exitCode: exitCodeOf(error),
          }),
          undefined,
          targets,
        );
        throw error;
      });
      for (const path of writeCiOutputs(result.summary, result.dir, targets)) {
        if (!args.quiet && !args.json) ctx.out.write(`wrote ${path}\n`);
      }
      ctx.exitCode = result.exitCode;
    },
  };
}
