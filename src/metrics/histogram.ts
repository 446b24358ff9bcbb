import { build, type Histogram } from 'hdr-histogram-js';
import type { LatencyStats } from '../record/summary.js';

/**
 * Latencies in an HDR histogram (3 significant digits, microsecond resolution), with the
 * exact maximum kept beside it. Packed buckets keep many small histograms cheap.
 */
export class LatencyHistogram {
  private readonly h: Histogram = build({
    bitBucketSize: 'packed',
    lowestDiscernibleValue: 1,
    numberOfSignificantValueDigits: 3,
  });
  private max = -Infinity;
  count = 0;

  record(ns: number): void {
    this.h.recordValue(Math.max(0, Math.round(ns / 1000)));
    this.max = Math.max(this.max, ns);
    this.count++;
  }

  /** p in 0..100; the value in ns (HDR's equivalent value, ±0.1%). */
  percentile(p: number): number | null {
    if (this.count === 0) return null;
    return Math.min(this.h.getValueAtPercentile(p) * 1000, this.max);
  }

  stats(): LatencyStats {
    return {
      p50: this.percentile(50),
      p90: this.percentile(90),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: this.count === 0 ? null : this.max,
    };
  }

  destroy(): void {
    this.h.destroy();
  }
}

/** Percentiles of a small list of durations (connect times): the same histogram. */
export function percentiles(values: number[]): LatencyStats {
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  const s = h.stats();
  h.destroy();
  return s;
}
