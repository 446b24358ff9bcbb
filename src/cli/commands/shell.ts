import type { CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { commandProblem } from '../../orchestrate/command-path.js';
import { runShell } from '../../orchestrate/shell.js';
import { prepareResultsDir } from '../../run/out-path.js';
import { startAtPhase } from '../../run/phase.js';
import { resultsDir } from '../../run/results.js';
import { recordShell, unimpairedScenario } from '../../run/shell-record.js';
import { loadScenario } from '../../scenario/index.js';
import type { CommandContext } from '../context.js';
import { ALLOW_PATH_OPTION, allowanceOf, type AllowArgs } from '../allow.js';

interface ShellArgs extends AllowArgs {
  scenario?: string;
  phase?: string;
  server?: string;
  mtu?: number;
  offload: boolean;
  ipv6?: boolean;
  'ready-timeout': number;
  record: boolean;
  out?: string;
  force: boolean;
  pcap: boolean;
  '--'?: (string | number)[];
}

export function shellCommand(ctx: CommandContext): CommandModule<object, ShellArgs> {
  return {
    command: 'shell [scenario]',
    describe: 'Run a program in the client namespace of a lab (default: an interactive shell)',
    builder: (y) =>
      y
        .usage('$0 shell [SCENARIO] [--server CMD] [options] [-- CMD [ARGS...]]')
        .positional('scenario', {
          type: 'string',
          describe:
            'Scenario file or library name whose link and policies apply (default: an unimpaired link)',
        })
        .option('phase', {
          type: 'string',
          describe:
            "Start at this phase of the scenario's timeline, its policies in force at once (needs a scenario)",
        })
        .option('allow-path', ALLOW_PATH_OPTION)
        .option('server', {
          type: 'string',
          describe:
            'Shell command to run in the server namespace meanwhile; its lines are prefixed [server]',
        })
        .option('mtu', {
          type: 'number',
          describe: "MTU of the lab link (default: the scenario's, else 1500)",
        })
        .option('offload', {
          type: 'boolean',
          default: true,
          describe:
            'Pass TSO super-packets through the core (--no-offload: MTU-sized packets only)',
        })
        .option('ipv6', {
          type: 'boolean',
          describe: "Give the lab IPv6 addresses too (default: the scenario's, else yes)",
        })
        .option('record', {
          type: 'boolean',
          default: true,
          describe:
            'Meter every flow and leave a results folder (flows.ndjson, summary.json, report.html); --no-record: an unmeasured lab',
        })
        .option('out', {
          type: 'string',
          describe: 'Results folder (default results/<UTC time>-shell-<scenario>)',
        })
        .option('force', {
          type: 'boolean',
          default: false,
          describe: 'Write into an --out folder that holds an earlier run',
        })
        .option('pcap', {
          type: 'boolean',
          default: false,
          describe:
            "Also write capture.pcapng: every packet before and after shaping, and those dropped with the reason (the scenario's `capture` sets which)",
        })
        .option('ready-timeout', {
          type: 'number',
          default: 10,
          describe:
            'Seconds to wait for the server command to listen before starting the client; if it exits or does not listen by then, exit 3 (0: do not wait)',
        })
        .example(
          "$0 shell --server 'iperf3 -s -1' -- iperf3 -c server.lab -t 5",
          'TCP throughput across the lab',
        )
        .example('$0 shell -- ping -c 3 server.lab', 'round trip across the lab')
        .example(
          '$0 shell link-devtools-slow-4g -- curl -s http://server.lab/',
          'a program under a library scenario',
        )
        .epilog(
          'Both commands see QOSLAB_CLIENT_ADDR, QOSLAB_SERVER_ADDR, QOSLAB_CLIENT_ADDR6 and QOSLAB_SERVER_ADDR6; ' +
            "server.lab and client.lab resolve in both namespaces. The exit code is the client command's.",
        ),
    handler: async (args) => {
      if (
        args.mtu !== undefined &&
        (!Number.isInteger(args.mtu) || args.mtu < 1280 || args.mtu > 65535)
      ) {
        throw new UsageError(`--mtu must be an integer from 1280 to 65535, got ${args.mtu}`);
      }
      if (!(args['ready-timeout'] >= 0)) {
        throw new UsageError(
          `--ready-timeout must be a number of seconds >= 0, got ${args['ready-timeout']}`,
        );
      }
      // Load first: a bad scenario is a usage error (exit 2) before any lab exists.
      if (args.phase !== undefined && args.scenario === undefined) {
        throw new UsageError('--phase needs a scenario: qoslab shell SCENARIO --phase NAME');
      }
      if (!args.record && (args.pcap || args.out !== undefined)) {
        throw new UsageError('--pcap and --out need the recording: drop --no-record');
      }
      const file =
        args.scenario === undefined
          ? undefined
          : await loadScenario(args.scenario, { allow: allowanceOf(args) });
      const loaded = file?.compiled;
      const chosen =
        loaded === undefined || args.phase === undefined
          ? loaded
          : startAtPhase(loaded, args.phase).compiled;
      const rest = (args['--'] ?? []).map(String);
      const command = rest.length > 0 ? rest : [process.env.SHELL || '/bin/sh'];
      // A client command that cannot start leaves no results folder behind.
      const missing = commandProblem(command[0] ?? '');
      if (missing !== undefined) {
        ctx.err.write(`qoslab: ${missing.message}\n`);
        ctx.exitCode = missing.code;
        return;
      }
      // Metering needs the core's pipeline: a shell without a scenario gets an empty one.
      const scenario = args.record ? (chosen ?? unimpairedScenario()) : chosen;
      const recording = args.record
        ? recordShell(
            prepareResultsDir(resultsDir(`shell-${scenario!.name}`, args.out), args.force),
            scenario!,
            file?.text ?? '',
            args.pcap,
            ctx.err,
          )
        : undefined;
      ctx.exitCode = await runShell({
        command,
        server: args.server,
        readyTimeoutMs: args['ready-timeout'] * 1000,
        lab: {
          scenario,
          traces: file?.traces,
          mtu: args.mtu,
          offload: args.offload,
          ipv6: args.ipv6,
          capture: recording?.capture,
        },
        out: ctx.out,
        err: ctx.err,
        hooks: recording?.hooks,
      });
      await recording?.finish(ctx.exitCode === 130);
    },
  };
}
