import { describe, expect, it } from 'vitest';
import { parseExpect } from '../../src/scenario/expect.js';

describe('expect lines', () => {
  it('parses each metric kind into its base unit', () => {
    const v = (s: string) => {
      const r = parseExpect(s);
      return r.ok
        ? [r.value.workload, r.value.metric, r.value.op, r.value.value, r.value.phase]
        : r.message;
    };
    expect(v('max-text.delivery >= 99% during throttled')).toEqual([
      'max-text',
      'delivery',
      '>=',
      0.99,
      'throttled',
    ]);
    expect(v('wa-text.latency.p95 > 1s')).toEqual(['wa-text', 'latency.p95', '>', 1e9, null]);
    expect(v('bulk.goodput<=160kbit')).toEqual(['bulk', 'goodput', '<=', 160_000, null]);
    expect(v('call.mos >= 3.6 during a')).toEqual(['call', 'mos', '>=', 3.6, 'a']);
    expect(v('call.loss < 0.05')).toEqual(['call', 'loss', '<', 0.05, null]);
    expect(v('ws.reconnects == 0')).toEqual(['ws', 'reconnects', '==', 0, null]);
    expect(v('ws.connect.p50 < 300ms')).toEqual(['ws', 'connect.p50', '<', 3e8, null]);
  });

  it('says what is wrong', () => {
    const m = (s: string) => {
      const r = parseExpect(s);
      return r.ok ? 'ok' : r.message;
    };
    expect(m('ws.delivery')).toBe(
      "expected '<workload>.<metric> <op> <value> [during <phase>]', found 'ws.delivery'",
    );
    expect(m('ws.latency.p95 > 99%')).toBe(
      "latency.p95: expected a duration like 250us, 20ms or 1.5s, found '99%'",
    );
    expect(m('ws.mos > 7')).toBe("mos: expected a MOS from 1 to 5 like 3.6, found '7'");
    expect(m('ws.reconnects < 1.5')).toBe(
      "reconnects: expected a whole number like 3, found '1.5'",
    );
    expect(m('ws.delivery > 99% while x')).toBe(
      "expected 'during <phase>' after the value, found 'ws.delivery > 99% while x'",
    );
    expect(m('ws.latency.p98 > 1s')).toMatch(
      /^unknown metric 'latency.p98'; did you mean 'latency.p90'\?/,
    );
  });
});
