import type { CommandModule } from 'yargs';
import { DEFAULT_SCENARIO, listLibrary } from '../../scenario/library.js';
import type { CommandContext } from '../context.js';

interface ScenariosArgs {
  json: boolean;
}

export function scenariosCommand(ctx: CommandContext): CommandModule<object, ScenariosArgs> {
  return {
    command: 'scenarios',
    describe: 'List the shipped scenario library: name, what it reproduces, sources',
    builder: (y) =>
      y.option('json', { type: 'boolean', default: false, describe: 'Print the list as JSON' }),
    handler: async (args) => {
      const entries = await listLibrary();
      if (args.json) {
        ctx.out.write(`${JSON.stringify(entries, null, 2)}\n`);
        return;
      }
      const width = Math.max(...entries.map((e) => e.name.length));
      for (const e of entries) {
        const mark = e.name === DEFAULT_SCENARIO ? ' (default)' : '';
        ctx.out.write(
          `${e.name.padEnd(width)}  ${e.error ? 'INVALID: see qoslab validate' : e.description}${mark}\n`,
        );
        for (const s of e.sources) ctx.out.write(`${' '.repeat(width)}    source: ${s}\n`);
      }
      ctx.out.write(`\nRun one with \`qoslab run NAME\`; \`qoslab validate NAME\` checks it.\n`);
    },
  };
}
