import type { CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { loadScenario } from '../../scenario/index.js';
import { parseDuration } from '../../scenario/units.js';
import { simulateScenario } from '../../simulate/simulate.js';
import { fmtRate, fmtRatio, table } from '../../record/format.js';
import type { CommandContext } from '../context.js';
import { ALLOW_PATH_OPTION, allowanceOf, type AllowArgs } from '../allow.js';

interface SimulateArgs extends AllowArgs {
  scenario: string;
  duration?: string;
  json: boolean;
}

const ms = (v: number | null) => (v === null ? '-' : `${v.toFixed(v < 10 ? 2 : 1)} ms`);

export function simulateCommand(ctx: CommandContext): CommandModule<object, SimulateArgs> {
  return {
    command: 'simulate <scenario>',
    describe: "Run a scenario's policies in virtual time over synthetic traffic (no root needed)",
    builder: (y) =>
      y
        .positional('scenario', {
          type: 'string',
          demandOption: true,
          describe: 'Scenario file or library name',
        })
        .option('duration', {
          type: 'string',
          describe: "Simulated time (default: the scenario's)",
        })
        .option('json', { type: 'boolean', default: false, describe: 'Print the report as JSON' })
        .option('allow-path', ALLOW_PATH_OPTION)
        .example(
          '$0 simulate ru-2021-twitter-sni-policer',
          'what the Twitter policer does to each workload',
        )
        .epilog(
          'Traffic per workload: a constant stream for messages, 20 ms frames for voice (opening with ' +
            'STUN), and for bulk one TCP window (64 KiB) per round trip. There is no TCP congestion ' +
            'control in virtual time: bulk throughput is an upper bound.',
        ),
    handler: async (args) => {
      const { compiled, traces } = await loadScenario(args.scenario, { allow: allowanceOf(args) });
      if (args.duration !== undefined) {
        const d = parseDuration(args.duration);
        if (!d.ok || d.value <= 0) {
          throw new UsageError(
            `--duration must be a positive duration like 30s or 2m, got '${args.duration}'`,
          );
        }
        compiled.duration_ns = d.value;
      }
      const report = simulateScenario(compiled, traces);
      if (args.json) {
        ctx.out.write(JSON.stringify(report, null, 2) + '\n');
        return;
      }
      const rows = [
        ['WORKLOAD', 'PHASE', 'DIR', 'SENT', 'DELIVERED', 'DELAY P50', 'P99', 'THROUGHPUT'],
      ];
      for (const r of report.rows) {
        rows.push([
          r.workload,
          r.phase,
          r.direction,
          String(r.sent),
          r.transport === 'tcp' ? 'n/a (tcp)' : fmtRatio(r.deliveredRatio),
          ms(r.delayP50Ms),
          ms(r.delayP99Ms),
          fmtRate(r.throughputBps),
        ]);
      }
      ctx.out.write(
        `${report.scenario}: ${(report.durationNs / 1e9).toFixed(1)} s in virtual time\n\n${table(rows)}\n` +
          (report.rows.some((r) => r.transport === 'tcp')
            ? '\nn/a (tcp): simulate has no TCP retransmission, so packet loss is not message loss there; `qoslab run` measures delivery\n'
            : ''),
      );
    },
  };
}
