import type { CommandModule } from 'yargs';
import { DEFAULT_SCENARIO, listLibrary } from '../../scenario/library.js';
import type { CommandContext } from '../context.js';

interface ScenariosArgs {
  json: boolean;
  numbers: boolean;
}

export function scenariosCommand(ctx: CommandContext): CommandModule<object, ScenariosArgs> {
  return {
    command: 'scenarios',
    describe:
      'List the shipped scenario library: name, what it reproduces, sources, and how many of its numbers are cited or assumed',
    builder: (y) =>
      y
        .option('json', { type: 'boolean', default: false, describe: 'Print the list as JSON' })
        .option('numbers', {
          type: 'boolean',
          default: false,
          describe:
            'Also list every number: cited (with the quote), assumed (with why) or unmarked',
        }),
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
        const pad = ' '.repeat(width);
        const n = e.numbers;
        if (!e.error) {
          ctx.out.write(
            `${pad}    numbers: ${n.cited} cited, ${n.assumed} assumed${n.unmarked > 0 ? `, ${n.unmarked} unmarked` : ''}\n`,
          );
        }
        for (const s of e.sources) ctx.out.write(`${pad}    source: ${s}\n`);
        if (args.numbers) {
          for (const m of e.provenance) {
            const why = m.status === 'unmarked' ? '' : `: ${m.text ?? ''}`;
            ctx.out.write(`${pad}      ${m.status.padEnd(8)} ${m.path} = ${m.value}${why}\n`);
          }
        }
      }
      ctx.out.write(`\nRun one with \`qoslab run NAME\`; \`qoslab validate NAME\` checks it.\n`);
    },
  };
}
