import { build, type Histogram } from 'hdr-histogram-js';
import type { LatencyStats } from '../record/summary.js';

/**
 * The one percentile of qoslab: an HDR histogram's value at a percentile (the smallest
 * recorded value with at least that share of values at or below it, to the histogram's
 * precision), never above the exact maximum kept beside it. Run, report, sweep and
 * simulate all take their percentiles from here. Packed buckets keep many small
 * histograms cheap.
 */
class Percentiles {
  private readonly h: Histogram;
  private max = -Infinity;
  count = 0;

  /**
   * `unit`: how many of the caller's units one bucket step is (1000: microseconds of
   * nanoseconds); `digits`: significant digits kept.
   */
  constructor(
    private readonly unit: number,
    digits: 1 | 2 | 3 | 4 | 5,
  ) {
    this.h = build({
      bitBucketSize: 'packed',
      lowestDiscernibleValue: 1,
      numberOfSignificantValueDigits: digits,
    });
  }

  record(value: number): void {
    this.h.recordValue(Math.max(0, Math.round(value / this.unit)));
    this.max = Math.max(this.max, value);
    this.count++;
  }

  /** The exact largest value; null when nothing was recorded. */
  maximum(): number | null {
    return this.count === 0 ? null : this.max;
  }

  /** p in 0..100; null when nothing was recorded. */
  percentile(p: number): number | null {
    if (this.count === 0) return null;
    return Math.min(this.h.getValueAtPercentile(p) * this.unit, this.max);
  }

  destroy(): void {
    this.h.destroy();
  }
}

/**
 * Latencies in ns, at microsecond resolution and 3 significant digits (±0.1 %): what
 * a message's one-way time can be known to.
 */
export class LatencyHistogram extends Percentiles {
  constructor() {
    super(1000, 3);
  }

  stats(): LatencyStats {
    return {
      p50: this.percentile(50),
      p90: this.percentile(90),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: this.maximum(),
    };
  }
}

/** Percentiles of a small list of durations (connect times, simulated delays): the same histogram. */
export function percentiles(values: number[]): LatencyStats {
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  const s = h.stats();
  h.destroy();
  return s;
}

/**
 * The median of byte counts (stalled transfers), by the same definition, to the byte
 * below 262,144 (5 significant digits): a size compared with a bound like 16KB must not
 * read a bucket's upper edge above it.
 */
export function medianBytes(values: number[]): number | null {
  const h = new Percentiles(1, 5);
  for (const v of values) h.record(v);
  const m = h.percentile(50);
  h.destroy();
  return m;
}
