import { describe, expect, it } from 'vitest';
import { fmtRatio } from '../../src/record/format.js';

describe('fmtRatio', () => {
  it('reads 100% and 0% only for exactly all and none', () => {
    // One message lost of 2500 is 99.96 %: it read "100%", and an expectation
    // `delivery >= 100%` failed with "measured 100%". One frame lost of 2500 read "0.0%".
    expect(fmtRatio(2499 / 2500)).toBe('99.96%');
    expect(fmtRatio(1 - 1e-6)).toBe('99.9999%');
    expect(fmtRatio(1 / 2500)).toBe('0.04%');
    expect(fmtRatio(1)).toBe('100%');
    expect(fmtRatio(0)).toBe('0%');
  });

  it('keeps one decimal where that already tells the value from 0 and 100', () => {
    expect(fmtRatio(0.9876)).toBe('98.8%');
    expect(fmtRatio(0.999)).toBe('99.9%');
    expect(fmtRatio(0.05)).toBe('5.0%');
    expect(fmtRatio(null)).toBe('-');
  });
});
