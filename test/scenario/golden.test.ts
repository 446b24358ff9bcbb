/**
 * The compiled configuration is the contract with the Rust core. Every scenario the
 * project ships or tests with — the library, the test fixtures, and one scenario made of
 * every action's examples and every workload protocol (from the registries) — is
 * compiled here to native/core/tests/golden/<corpus>/<name>.json, which `cargo test`
 * (native/core/tests/golden.rs) parses with the core's scenario parser and builds into a
 * pipeline. This test fails when a file is stale, missing or left over; refresh
 * deliberately with `npm run golden` and review the diff.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTION_NAMES, ACTIONS } from '../../src/scenario/actions/index.js';
import { compileScenario } from '../../src/scenario/compile.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { PROTOCOL_NAMES, PROTOCOLS } from '../../src/scenario/protocols/index.js';
import { FORMAT_EXAMPLE } from './fixtures/format-example.js';
import { golden, here, UPDATE_GOLDEN } from './helpers.js';

const GOLDEN_DIR = here('../../native/core/tests/golden/');

/** A scenario with one policy per action example and one workload per protocol. */
function registryScenario(): string {
  const policies = Object.fromEntries(
    ACTION_NAMES.flatMap((name) =>
      (ACTIONS[name].examples as unknown[]).map((params, i) => [
        `${name}-${i + 1}`,
        { actions: [{ [name]: params }] },
      ]),
    ),
  );
  // A port each: some protocols cannot share one (scenario/ports.ts).
  const workloads = PROTOCOL_NAMES.map((protocol, i) => ({
    name: protocol,
    host: 'server',
    protocol,
    port: 20000 + i,
    ...(PROTOCOLS[protocol] as { example?: object }).example,
  }));
  return JSON.stringify({ version: 1, name: 'every-action', policies, workloads });
}

type Case = { file: string; name: string; text: () => Promise<string> };

async function yamlFiles(corpus: string, dir: string): Promise<Case[]> {
  const files = (await readdir(here(dir))).filter((f) => f.endsWith('.yaml')).sort();
  return files.map((f) => ({
    file: `${corpus}/${basename(f, '.yaml')}.json`,
    name: basename(f, '.yaml'),
    text: () => readFile(here(`${dir}${f}`), 'utf8'),
  }));
}

const cases: Case[] = [
  ...(await yamlFiles('library', '../../scenarios/')),
  ...(await yamlFiles('e2e', '../e2e/scenarios/')),
  ...(await yamlFiles('run', '../run/fixtures/')),
  ...(await yamlFiles('report', '../report/fixtures/')),
  { file: 'fixture/format-example.json', name: 'format-example', text: async () => FORMAT_EXAMPLE },
  {
    file: 'registry/every-action.json',
    name: 'every-action',
    text: async () => registryScenario(),
  },
];

describe('compiled configuration (golden, read by cargo test)', () => {
  it.each(cases.map((c): [string, Case] => [c.file, c]))('%s', async (file, c) => {
    const compile = async () => compileScenario(parseScenarioText(await c.text(), c.name), c);
    const compiled = await compile();
    const actual = JSON.stringify(compiled, null, 2) + '\n';
    const expected = await golden(`${GOLDEN_DIR}${file}`, actual, 'json');
    expect(existsSync(`${GOLDEN_DIR}${file}`), `${file} is missing: run npm run golden`).toBe(true);
    // Same values and the same key order as the golden file.
    expect(JSON.stringify(compiled), `${file} is stale: run npm run golden`).toBe(
      JSON.stringify(JSON.parse(expected)),
    );
    // Stable key order: the same scenario always gives the same bytes.
    expect(JSON.stringify(await compile())).toBe(JSON.stringify(compiled));
  });

  it('has no golden file without a scenario', async () => {
    const present = existsSync(GOLDEN_DIR)
      ? (await readdir(GOLDEN_DIR, { recursive: true })).filter((f) => f.endsWith('.json'))
      : [];
    const wanted = new Set(cases.map((c) => c.file));
    const extra = present.filter((f) => !wanted.has(f));
    if (UPDATE_GOLDEN) for (const f of extra) await rm(`${GOLDEN_DIR}${f}`);
    else expect(extra, 'left over: run npm run golden').toEqual([]);
  });

  it('covers every action example and every protocol', async () => {
    const compiled = compileScenario(parseScenarioText(registryScenario(), 'every-action'));
    const types = new Set(compiled.policies.flatMap((p) => p.actions.map((a) => a.type)));
    for (const name of ACTION_NAMES) {
      expect(ACTIONS[name].examples.length, name).toBeGreaterThan(0);
    }
    // loss compiles to two core types; every other action to its own name.
    expect([...types].sort()).toEqual([...ACTION_NAMES, 'gilbert-elliott'].sort());
    expect(compiled.workloads.map((w) => w.protocol)).toEqual(PROTOCOL_NAMES);
  });
});
