import type { CommandModule } from 'yargs';
import { ExitCode } from '../../errors.js';
import { cleanupLeftovers } from '../../orchestrate/cleanup.js';
import type { CommandContext } from '../context.js';

interface CleanupArgs {
  'dry-run': boolean;
}

export function cleanupCommand(ctx: CommandContext): CommandModule<object, CleanupArgs> {
  return {
    command: 'cleanup',
    describe: 'Remove lab namespaces, devices and processes left by a killed run',
    builder: (y) =>
      y.option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'Only list what would be removed',
      }),
    handler: async (args) => {
      const dryRun = args['dry-run'];
      const report = await cleanupLeftovers({ dryRun });
      const verb = dryRun ? 'would remove' : 'removed';
      for (const run of report.removed) {
        const what = [...run.namespaces, ...run.links];
        ctx.out.write(
          `${verb} run ${run.id} (pid ${run.pid} is gone): ${what.length > 0 ? what.join(', ') : 'its marker only'}\n`,
        );
      }
      for (const run of report.live) {
        ctx.out.write(`left run ${run.id} alone: its process ${run.pid} is still running\n`);
      }
      if (report.unowned.length > 0) {
        ctx.out.write(
          `left alone (ql prefix but no qoslab run marker): ${report.unowned.join(', ')}\n`,
        );
      }
      for (const dir of report.tempDirs) {
        ctx.out.write(`${verb} ${dir} (temporary files of a run that is gone)\n`);
      }
      if (report.removed.length === 0 && report.live.length === 0 && report.tempDirs.length === 0) {
        ctx.out.write('nothing to clean up\n');
      }
      for (const error of report.errors) ctx.err.write(`qoslab: could not remove ${error}\n`);
      ctx.exitCode = report.errors.length > 0 ? ExitCode.environment : ExitCode.ok;
    },
  };
}
