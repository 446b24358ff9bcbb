import type { CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { loadScenario } from '../../scenario/index.js';
import { parseDuration } from '../../scenario/units.js';
import {
  hostCongestionControl,
  scenarioCongestionControl,
  simulateScenario,
  type SimulationReport,
} from '../../simulate/simulate.js';
import type { TcpCongestionControl } from '../../simulate/plan.js';
import { expectationLines, marks, summaryTable } from '../../record/format.js';
import type { CommandContext } from '../context.js';
import { ALLOW_PATH_OPTION, allowanceOf, type AllowArgs } from '../allow.js';

/** Why a simulated expectation has no verdict: the twin left its workload out, or the time was cut. */
const SIMULATE_UNJUDGED = {
  'not measured': 'not measured: the twin does not simulate this workload, see NOT MODELLED',
  'not reached': 'not reached: --duration ended before its phase',
};

interface SimulateArgs extends AllowArgs {
  scenario: string;
  duration?: string;
  tcp?: string;
  json: boolean;
}

function printReport(report: SimulationReport, tcpSource: string, ctx: CommandContext): void {
  const m = marks(ctx.out);
  const notes = (w: string) => report.unmodelled[w]?.join('; ') || '-';
  ctx.out.write(
    `${report.scenario}: ${(report.durationNs / 1e9).toFixed(1)} s in virtual time, ` +
      `TCP ${report.tcp} (${tcpSource})\n\n` +
      `${summaryTable(report.workloads, { header: 'NOT MODELLED', cell: notes })}\n`,
  );
  if (report.expectations.length > 0) {
    ctx.out.write(
      `\nexpectations (simulated):\n${expectationLines(report.expectations, m.ok, m.fail, SIMULATE_UNJUDGED)}\n`,
    );
  }
}

export function simulateCommand(ctx: CommandContext): CommandModule<object, SimulateArgs> {
  return {
    command: 'simulate <scenario>',
    describe: "Run a scenario's workloads and policies in virtual time (no root needed)",
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
        .option('tcp', {
          type: 'string',
          choices: ['cubic', 'bbr'],
          describe:
            "TCP congestion control (default: the scenario's network.tcp-congestion, else this machine's, as a lab here would run)",
        })
        .option('json', { type: 'boolean', default: false, describe: 'Print the report as JSON' })
        .option('allow-path', ALLOW_PATH_OPTION)
        .example(
          '$0 simulate ru-2021-twitter-sni-policer',
          'what the Twitter policer does to each workload',
        )
        .epilog(
          "The twin: each workload's application as the lab's agents run it (connections, TLS, " +
            'reconnects with backoff, messages, transfers, voice frames, a call), over Linux TCP ' +
            '(CUBIC or BBR: handshake, slow start, SACK and RACK recovery, loss probes, RTO, ' +
            'delayed ACKs, receive window), UDP and QUIC, through the same shaping core as ' +
            "`qoslab run`. The table is the lab's, from the same metrics; expectations are " +
            'judged on it and marked simulated. NOT MODELLED says per workload what only the ' +
            'lab reproduces. It has no resolver: names are not looked up, so resolver rules do ' +
            'not apply and dns-lookup workloads are not simulated. test/simulate/agreement/ ' +
            'holds how close it comes to the lab.',
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
      const pinned = scenarioCongestionControl(compiled);
      const [tcp, tcpSource] =
        args.tcp !== undefined
          ? [args.tcp as TcpCongestionControl, '--tcp']
          : pinned !== undefined
            ? [pinned.tcp, pinned.source]
            : [hostCongestionControl(), "this machine's default"];
      const report = simulateScenario(compiled, tcp, traces);
      if (args.json) {
        ctx.out.write(JSON.stringify(report, null, 2) + '\n');
        return;
      }
      printReport(report, tcpSource, ctx);
    },
  };
}
