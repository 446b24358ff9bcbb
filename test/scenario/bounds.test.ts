/**
 * Every expectation of every library scenario is two-sided (./bands.ts): a file that
 * gains a one-sided bound on a metric it cites fails here, before any lab runs.
 */
import { describe, expect, it } from 'vitest';
import { libraryNames, loadScenario } from '../../src/scenario/library.js';
import { parseExpect } from '../../src/scenario/expect.js';
import type { CompiledExpectation } from '../../src/scenario/compiled.js';
import { oneSided } from './bands.js';

const names = await libraryNames();

function lines(...texts: string[]): CompiledExpectation[] {
  return texts.map((t) => {
    const p = parseExpect(t);
    if (!p.ok) throw new Error(p.message);
    return p.value;
  });
}

describe('two-sided bounds', () => {
  it('finds a one-sided bound, and accepts a band or a ratio pinned to its edge', () => {
    const twitter = lines('tw.goodput <= 160kbit during throttled');
    expect(oneSided(twitter, 0)).toMatch(/has no lower bound on tw\.goodput during throttled/);
    const band = lines('tw.goodput <= 160kbit during t', 'tw.goodput >= 100kbit during t');
    expect([oneSided(band, 0), oneSided(band, 1)]).toEqual([undefined, undefined]);
    // A band in another phase or of another metric is not this one's.
    const elsewhere = lines('tw.goodput <= 160kbit during t', 'tw.goodput >= 100kbit during u');
    expect(oneSided(elsewhere, 0)).toMatch(/no lower bound/);
    expect(oneSided(lines('call.loss > 10% during t'), 0)).toMatch(/no upper bound/);
    expect(oneSided(lines('chat.delivery >= 99% during t'), 0)).toBeUndefined();
    expect(oneSided(lines('chat.delivery < 1% during t'), 0)).toBeUndefined();
    expect(oneSided(lines('chat.delivery < 20% during t'), 0)).toMatch(/no lower bound/);
    expect(oneSided(lines('call.mos == 1'), 0)).toBeUndefined();
    expect(oneSided(lines('a.goodput > 2mbit', 'a.goodput < 1mbit'), 0)).toMatch(/exclude/);
  });

  it.each(names)('%s: every expectation has a lower and an upper bound', async (name) => {
    const { compiled } = await loadScenario(name);
    const problems = compiled.expect.flatMap((_, i) => {
      const why = oneSided(compiled.expect, i);
      return why === undefined ? [] : [`expect.${i}: ${why}`];
    });
    expect(problems).toEqual([]);
  });
});
