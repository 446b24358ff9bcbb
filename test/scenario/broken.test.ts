import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/scenario/errors.js';
import { validateScenarioText } from '../../src/scenario/load.js';
import { golden, here } from './helpers.js';

// Each fixtures/broken/NAME.yaml (or .json) has NAME.expected: the exact lines
// `qoslab validate` prints for it, positions included.
const dir = here('./fixtures/broken/');
const files = (await readdir(dir)).filter((f) => /\.(yaml|json)$/.test(f)).sort();

describe('broken scenario corpus', () => {
  it('has at least 40 files', () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
  });

  it.each(files)('%s: every problem located, exactly as expected', async (file) => {
    const v = validateScenarioText(await readFile(dir + file, 'utf8'), file);
    expect(v.ok).toBe(false);
    const lines = v.ok ? '' : v.problems.map(formatProblem).join('\n') + '\n';
    const expected = await golden(dir + file.replace(/\.(yaml|json)$/, '.expected'), lines);
    expect(lines).toBe(expected);
  });
});
