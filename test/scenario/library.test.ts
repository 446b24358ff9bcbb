import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { compileScenario } from '../../src/scenario/compile.js';
import {
  DEFAULT_SCENARIO,
  LIBRARY_DIR,
  libraryNames,
  listLibrary,
  loadScenario,
  resolveScenario,
} from '../../src/scenario/library.js';
import { validateScenarioText } from '../../src/scenario/load.js';
import { scenarioJsonSchema } from '../../src/scenario/schema.js';
import { FORMAT_EXAMPLE } from './fixtures/format-example.js';
import { here } from './helpers.js';

const names = await libraryNames();

describe('the shipped library', () => {
  it('has the scenarios the issue asks for', () => {
    for (const name of [
      'ru-2021-twitter-sni-policer',
      'ru-2022-tspu-quic-v1-drop',
      'ru-tspu-sni-block-rst',
      'ru-tspu-sni-block-mute',
      'ru-tspu-sni-block-drop',
      'ru-2024-youtube-googlevideo',
      'ru-2025-messenger-calls',
      'ru-2025-foreign-hosting-freeze',
      'ru-2024-ech-cloudflare',
      'ru-2025-whatsapp-phased',
      'ru-mobile-whitelist',
      'cn-gfw-quic-sni-residual',
      'cn-gfw-tls-sni-rst',
      'ir-2020-protocol-whitelister',
      'link-devtools-3g',
      'link-devtools-slow-4g',
      'link-devtools-fast-4g',
      'link-lossy-wifi',
      'link-geo-satellite',
      DEFAULT_SCENARIO,
    ]) {
      expect(names).toContain(name);
    }
  });

  it.each(names)('%s validates, compiles to JSON and cites its sources', async (name) => {
    const text = await readFile(`${LIBRARY_DIR}${name}.yaml`, 'utf8');
    expect(text.split('\n')[0]).toBe(
      '# yaml-language-server: $schema=../schema/scenario.schema.json',
    );
    const v = validateScenarioText(text, `scenarios/${name}.yaml`);
    if (!v.ok)
      expect.fail(v.problems.map((p) => `${p.line}:${p.col} ${p.path} ${p.message}`).join('\n'));
    expect(v.scenario.name).toBe(name);
    expect(v.scenario.description).toBeTruthy();
    expect(v.scenario.sources?.length ?? 0).toBeGreaterThan(0);
    const compiled = compileScenario(v.scenario);
    expect(JSON.parse(JSON.stringify(compiled))).toEqual(compiled);
  });

  it('marks every number as cited or assumed', async () => {
    const entries = await listLibrary();
    const unmarked = entries.flatMap((e) =>
      e.provenance.filter((m) => m.status === 'unmarked').map((m) => `${e.name}: ${m.path}`),
    );
    expect(unmarked).toEqual([]);
    for (const e of entries) expect(e.numbers.cited, e.name).toBeGreaterThan(0);
    const calls = entries.find((e) => e.name === 'ru-2025-messenger-calls')!;
    const loss = calls.provenance.find(
      (m) => m.path === 'policies.call-restriction.actions.0.loss.rate',
    );
    expect(loss).toMatchObject({ status: 'assumed', value: '30%' });
  });

  it('has at least 30 scenarios, each with a country or link prefix', () => {
    expect(names.length).toBeGreaterThanOrEqual(30);
    for (const n of names.filter((n) => n !== DEFAULT_SCENARIO)) {
      expect(n).toMatch(/^(ru|cn|ir|pk|tr|kz|link)-/);
    }
  });

  it('is listed in scenarios/README.md', async () => {
    const readme = await readFile(`${LIBRARY_DIR}README.md`, 'utf8');
    for (const name of names) expect(readme).toContain(`\`${name}\``);
  });

  it('lists name, one line and sources', async () => {
    const entries = await listLibrary();
    expect(entries.map((e) => e.name)).toEqual(names);
    const twitter = entries.find((e) => e.name === 'ru-2021-twitter-sni-policer')!;
    expect(twitter.error).toBeUndefined();
    expect(twitter.sources[0]).toMatch(/Throttling Twitter/);
  });
});

describe('resolveScenario', () => {
  it('finds a library name', async () => {
    const r = await resolveScenario('messengers');
    expect(r).toEqual({
      path: `${LIBRARY_DIR}messengers.yaml`,
      name: 'messengers',
      fromLibrary: true,
    });
  });

  it('takes a path as a path', async () => {
    const r = await resolveScenario('scenarios/link-devtools-3g.yaml');
    expect(r.fromLibrary).toBe(false);
    expect(r.name).toBe('link-devtools-3g');
    expect(existsSync(r.path)).toBe(true);
  });

  it('suggests a library name for a typo', async () => {
    await expect(resolveScenario('messenger')).rejects.toThrow(
      "no scenario file or library scenario named 'messenger'; did you mean 'messengers'?",
    );
    await expect(resolveScenario('nope/x.yaml')).rejects.toBeInstanceOf(UsageError);
  });

  it('loads and compiles the default scenario', async () => {
    const loaded = await loadScenario();
    expect(loaded.compiled.name).toBe(DEFAULT_SCENARIO);
    expect(loaded.compiled.format).toBe(1);
  });
});

describe('the example of docs/scenario-format.md', () => {
  it('validates exactly as written', () => {
    const v = validateScenarioText(FORMAT_EXAMPLE, 'docs/scenario-format.md');
    if (!v.ok)
      expect.fail(v.problems.map((p) => `${p.line}:${p.col} ${p.path} ${p.message}`).join('\n'));
    expect(v.scenario.name).toBe('messengers-2025');
  });

  it('is still the text of the page', async () => {
    const page = await readFile(here('../../docs/scenario-format.md'), 'utf8');
    expect(page).toContain('```yaml\n' + FORMAT_EXAMPLE + '```');
  });
});

describe('schema/scenario.schema.json', () => {
  it('is the generated JSON Schema (regenerate with `npm run schema`)', async () => {
    const committed = JSON.parse(await readFile(here('../../schema/scenario.schema.json'), 'utf8'));
    expect(committed).toEqual(scenarioJsonSchema());
  });

  it('describes units for editors', () => {
    const schema = scenarioJsonSchema() as { properties: Record<string, { pattern?: string }> };
    expect(schema.properties.duration?.pattern).toMatch(/ms/);
  });
});
