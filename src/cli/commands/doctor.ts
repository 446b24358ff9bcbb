import type { CommandModule } from 'yargs';
import { ExitCode } from '../../errors.js';
import { runChecks } from '../../orchestrate/checks.js';
import { marks } from '../output.js';
import type { CommandContext } from '../context.js';

interface DoctorArgs {
  json: boolean;
}

export function doctorCommand(ctx: CommandContext): CommandModule<object, DoctorArgs> {
  return {
    command: 'doctor',
    describe: 'Check kernel, privileges, TUN and tools; say how to fix what is missing',
    builder: (y) =>
      y.option('json', { type: 'boolean', default: false, describe: 'Print the checks as JSON' }),
    handler: async (args) => {
      const results = await runChecks();
      const fatal = results.some((r) => r.level === 'required' && !r.ok);
      ctx.exitCode = fatal ? ExitCode.environment : ExitCode.ok;
      if (args.json) {
        ctx.out.write(JSON.stringify({ ok: !fatal, checks: results }, null, 2) + '\n');
        return;
      }
      const m = marks(ctx.out);
      const width = Math.max(...results.map((r) => r.name.length));
      for (const r of results) {
        const mark = r.ok ? m.ok : r.level === 'required' ? m.fail : m.warn;
        ctx.out.write(`${mark} ${r.name.padEnd(width)}  ${r.detail}\n`);
        if (!r.ok && r.fix) ctx.out.write(`  ${' '.repeat(width)}   fix: ${r.fix}\n`);
      }
      ctx.out.write(
        fatal
          ? '\nThis machine cannot host a lab yet: fix the failed checks above.\n'
          : '\nAll required checks passed: this machine can host a lab.\n',
      );
    },
  };
}
