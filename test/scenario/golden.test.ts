import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { compileScenario } from '../../src/scenario/compile.js';
import { LIBRARY_DIR } from '../../src/scenario/library.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { DESIGN_EXAMPLE } from './fixtures/design-example.js';
import { golden, here } from './helpers.js';

// The compiled configuration is the contract with the Rust core: any change to it shows
// up here. Refresh deliberately with UPDATE_GOLDEN=1.
const cases: [string, () => Promise<string>][] = [
  ['design-example', async () => DESIGN_EXAMPLE],
  ...[
    'messengers',
    'ru-2021-twitter-sni-policer',
    'cn-gfw-quic-sni-residual',
    'ru-2025-foreign-hosting-freeze',
    'ir-2020-protocol-whitelister',
  ].map((name): [string, () => Promise<string>] => [
    name,
    () => readFile(`${LIBRARY_DIR}${name}.yaml`, 'utf8'),
  ]),
];

describe('compiled configuration (golden)', () => {
  it.each(cases)('%s', async (name, text) => {
    const compiled = compileScenario(parseScenarioText(await text(), name), { name });
    const actual = JSON.stringify(compiled, null, 2) + '\n';
    const expected = await golden(here(`./golden/${name}.json`), actual, 'json');
    // Same values and the same key order as the golden file.
    expect(JSON.stringify(compiled)).toBe(JSON.stringify(JSON.parse(expected)));
    // Stable key order: the same scenario always gives the same bytes.
    expect(JSON.stringify(compileScenario(parseScenarioText(await text(), name), { name }))).toBe(
      JSON.stringify(compiled),
    );
  });
});
