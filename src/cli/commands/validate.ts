import type { CommandModule } from 'yargs';
import { ExitCode } from '../../errors.js';
import { formatProblem } from '../../scenario/errors.js';
import { validateFiles } from '../../scenario/validate.js';
import type { CommandContext } from '../context.js';
import { ALLOW_PATH_OPTION, allowanceOf, type AllowArgs } from '../allow.js';

interface ValidateArgs extends AllowArgs {
  files: string[];
}

export function validateCommand(ctx: CommandContext): CommandModule<object, ValidateArgs> {
  return {
    command: 'validate <files..>',
    describe:
      'Check scenario files; print every problem as file:line:col, exit 2 if any is invalid',
    builder: (y) =>
      y
        .positional('files', {
          type: 'string',
          array: true,
          demandOption: true,
          describe: 'Scenario files or library names',
        })
        .option('allow-path', ALLOW_PATH_OPTION)
        .example('$0 validate scenarios/*.yaml', 'check the whole library'),
    handler: async (args) => {
      const results = await validateFiles(args.files.map(String), allowanceOf(args));
      for (const r of results) {
        if (r.problems.length === 0) {
          const note =
            r.programs.length === 0
              ? ''
              : `  (runs commands: ${r.programs.join(', ')}; run needs --allow-commands)`;
          ctx.out.write(`ok  ${r.file}${note}\n`);
        } else for (const p of r.problems) ctx.out.write(`${formatProblem(p)}\n`);
      }
      ctx.exitCode = results.some((r) => r.problems.length > 0) ? ExitCode.usage : ExitCode.ok;
    },
  };
}
