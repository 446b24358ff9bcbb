import { describe, expect, it } from 'vitest';
import type { Arguments } from 'yargs';
import { scenariosCommand } from '../../src/cli/commands/scenarios.js';
import { schemaCommand } from '../../src/cli/commands/schema.js';
import { validateCommand } from '../../src/cli/commands/validate.js';
import type { CommandContext } from '../../src/cli/context.js';
import { printError } from '../../src/cli/output.js';
import { ScenarioError } from '../../src/scenario/errors.js';
import { loadScenario } from '../../src/scenario/library.js';
import { here } from './helpers.js';

function context() {
  let out = '';
  let err = '';
  const ctx: CommandContext = {
    out: { write: (s: string) => ((out += s), true) } as unknown as CommandContext['out'],
    err: { write: (s: string) => ((err += s), true) } as unknown as CommandContext['err'],
    exitCode: 0,
  };
  return { ctx, out: () => out, err: () => err };
}

const args = <T>(a: T) => ({ _: [], $0: 'qoslab', ...a }) as Arguments<T>;

describe('qoslab validate', () => {
  it('prints ok for good files and located problems for bad ones, exit 2', async () => {
    const c = context();
    const bad = here('./fixtures/broken/rate-kbps.yaml');
    await validateCommand(c.ctx).handler(
      args({ files: ['scenarios/messengers.yaml', 'messengers', bad] }),
    );
    expect(c.out()).toBe(
      'ok  scenarios/messengers.yaml\nok  messengers\n' +
        `${bad}:4:19  network.uplink.rate  expected a rate like 128kbit or 2.5mbit, found '128kbps'\n`,
    );
    expect(c.ctx.exitCode).toBe(2);
  });

  it('exits 0 when every file is valid', async () => {
    const c = context();
    await validateCommand(c.ctx).handler(args({ files: ['scenarios/link-devtools-3g.yaml'] }));
    expect(c.ctx.exitCode).toBe(0);
  });

  it('reports a missing file without a stack trace', async () => {
    const c = context();
    await validateCommand(c.ctx).handler(args({ files: ['no/such.yaml'] }));
    expect(c.out()).toBe('no/such.yaml:1:1  (top level)  no scenario file no/such.yaml\n');
    expect(c.ctx.exitCode).toBe(2);
  });
});

describe('qoslab schema and scenarios', () => {
  it('prints the JSON Schema', async () => {
    const c = context();
    await schemaCommand(c.ctx).handler(args({}));
    expect(JSON.parse(c.out()).$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('lists the library with sources and marks the default', async () => {
    const c = context();
    await scenariosCommand(c.ctx).handler(args({ json: false }));
    expect(c.out()).toMatch(/^messengers +A WhatsApp-like.*\(default\)$/m);
    expect(c.out()).toMatch(/source: .*Throttling Twitter/);
  });
});

describe('a scenario error reaching the CLI', () => {
  it('prints every located problem and exits 2', async () => {
    const error = await loadScenario(here('./fixtures/broken/many-problems.yaml')).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ScenarioError);
    let err = '';
    const code = printError(error, {
      write: (s: string) => ((err += s), true),
    } as unknown as NodeJS.WritableStream);
    expect(code).toBe(2);
    expect(err).toMatch(/is not a valid scenario \(\d+ problems\):\n.*many-problems.yaml:4:/);
    expect(err).not.toMatch(/\n\s+at /);
  });
});
