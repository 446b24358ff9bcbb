import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qoslab } from '../helpers/cli.js';
import { CASES, FILES, makeSpecialPaths } from './cases.js';

/** A line of a JavaScript stack trace. */
const STACK = /^\s+at .+(\(.*:\d+:\d+\)|:\d+:\d+)$/m;

describe('the hostile corpus: bad input never crashes, never exits 1', () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'qoslab-hostile-'));

  beforeAll(() => {
    for (const [name, content] of Object.entries(FILES)) writeFileSync(join(dir, name), content);
    makeSpecialPaths(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has at least 60 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
  });

  it.concurrent.each(CASES)('$name → exit $code', async (c) => {
    const args = c.args.map((a) => a.replaceAll('$D', dir));
    const r = await qoslab(args, 60_000);
    const output = `${r.stderr}${r.stdout}`;
    expect(r.code, output).toBe(c.code);
    expect(output).toMatch(c.message);
    expect(output).not.toMatch(STACK);
    expect(output).not.toMatch(/internal error/);
  });
});
