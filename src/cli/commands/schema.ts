import type { CommandModule } from 'yargs';
import { scenarioJsonSchema } from '../../scenario/schema.js';
import type { CommandContext } from '../context.js';

export function schemaCommand(ctx: CommandContext): CommandModule<object, object> {
  return {
    command: 'schema',
    describe: 'Print the scenario JSON Schema (for editors: yaml-language-server, VS Code)',
    handler: () => {
      ctx.out.write(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
    },
  };
}
