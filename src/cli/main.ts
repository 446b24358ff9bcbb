import yargs from 'yargs';
import { ExitCode, UsageError } from '../errors.js';
import { cleanupCommand } from './commands/cleanup.js';
import { compareCommand } from './commands/compare.js';
import { doctorCommand } from './commands/doctor.js';
import { mergeCommand } from './commands/merge.js';
import { reportCommand } from './commands/report.js';
import { runCommand } from './commands/run.js';
import { scenariosCommand } from './commands/scenarios.js';
import { schemaCommand } from './commands/schema.js';
import { shellCommand } from './commands/shell.js';
import { simulateCommand } from './commands/simulate.js';
import { sweepCommand } from './commands/sweep.js';
import { validateCommand } from './commands/validate.js';
import type { CommandContext } from './context.js';
import { printError } from './output.js';
import { closeAllLabs } from '../orchestrate/lab.js';
import { enterRootless, wantsRootless } from '../orchestrate/rootless.js';
import { qoslabVersion } from '../run/env.js';
import { handOverMade, resultsOwner, setResultsOwner } from '../run/owner.js';

/**
 * A bug that escapes every handler must still not leave namespaces behind: report it,
 * remove this process's labs, then exit.
 */
function exitOnFatal(err: NodeJS.WritableStream): void {
  let failing = false;
  const fatal = (error: unknown) => {
    if (failing) return;
    failing = true;
    const code = printError(error, err);
    void closeAllLabs().finally(() => process.exit(code));
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}

/**
 * The command line. Command modules only declare options and call the logic; every error
 * ends here, printed without a stack trace, with its exit code (docs/architecture.md
 * "Exit codes and results").
 */
export async function main(argv: string[]): Promise<number> {
  // An ordinary user: the same command again inside a user namespace of its own.
  if (wantsRootless(argv)) return enterRootless(argv);
  const ctx: CommandContext = { out: process.stdout, err: process.stderr, exitCode: ExitCode.ok };
  exitOnFatal(ctx.err);
  const cli = yargs(argv)
    .scriptName('qoslab')
    .usage(
      '$0 <command> [options]\n\nA network throttling lab: two namespaces joined by a shaping TUN proxy.',
    )
    .parserConfiguration({ 'populate--': true })
    .command(runCommand(ctx))
    .command(sweepCommand(ctx))
    .command(shellCommand(ctx))
    .command(simulateCommand(ctx))
    .command(validateCommand(ctx))
    .command(reportCommand(ctx))
    .command(compareCommand(ctx))
    .command(mergeCommand(ctx))
    .command(schemaCommand(ctx))
    .command(scenariosCommand(ctx))
    .command(doctorCommand(ctx))
    .command(cleanupCommand(ctx))
    .demandCommand(1, 'Name a command: qoslab <command> (see qoslab --help)')
    .recommendCommands()
    .strict()
    .help()
    .alias('h', 'help')
    // qoslab's own package.json, found from this module: yargs' bare .version() reads the
    // nearest package.json above the working directory (a host project's, when installed).
    .version(qoslabVersion())
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((message, error) => {
      // yargs validation problems arrive as a message, or as a YError (an option's coerce
      // check failed); errors thrown by handlers as error.
      if (error?.name === 'YError') throw new UsageError(error.message);
      throw error ?? new UsageError(message, ['see `qoslab --help` or `qoslab <command> --help`']);
    });
  try {
    setResultsOwner(resultsOwner());
    await cli.parseAsync();
    return ctx.exitCode;
  } catch (error) {
    return printError(error, ctx.err);
  } finally {
    for (const line of handOverMade()) ctx.err.write(`qoslab: warning: PUID: ${line}\n`);
  }
}
