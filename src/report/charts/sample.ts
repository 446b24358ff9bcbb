/**
 * Thinning of long series, so a report of an hour-long run stays a few MB and draws fast,
 * without hiding what a reader looks for (outliers, the tail of a distribution).
 */

/** At most `max` points of a scatter: per time bucket its lowest and highest value survive. */
export function envelope(points: [number, number][], max: number): [number, number][] {
  if (points.length <= max) return points;
  const sorted = [...points].sort((a, b) => a[0] - b[0]);
  const buckets = Math.max(1, Math.floor(max / 2));
  const t0 = sorted[0]![0];
  const span = sorted[sorted.length - 1]![0] - t0 || 1;
  const lo = new Map<number, [number, number]>();
  const hi = new Map<number, [number, number]>();
  for (const p of sorted) {
    const b = Math.min(buckets - 1, Math.floor(((p[0] - t0) / span) * buckets));
    if (!lo.has(b) || p[1] < lo.get(b)![1]) lo.set(b, p);
    if (!hi.has(b) || p[1] > hi.get(b)![1]) hi.set(b, p);
  }
  const kept = new Set([...lo.values(), ...hi.values()]);
  return sorted.filter((p) => kept.has(p));
}

/**
 * The empirical CDF of `values` as (value, fraction ≤ value) points: every point when few,
 * else `max` evenly spaced ranks plus the maximum, so the tail stays exact.
 */
export function cdfPoints(values: number[], max = 200): [number, number][] {
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  if (n === 0) return [];
  const ranks =
    n <= max ? v.map((_, i) => i) : [...Array(max).keys()].map((k) => Math.floor((k * n) / max));
  if (ranks[ranks.length - 1] !== n - 1) ranks.push(n - 1);
  return ranks.map((i) => [v[i]!, (i + 1) / n]);
}

/** Several series with their own x values onto one sorted x axis (null where absent). */
export function align(series: [number, number][][]): { x: number[]; ys: (number | null)[][] } {
  const x = [...new Set(series.flatMap((s) => s.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(x.map((v, i) => [v, i]));
  const ys = series.map((s) => {
    const y: (number | null)[] = new Array<number | null>(x.length).fill(null);
    for (const [px, py] of s) y[index.get(px)!] = py;
    return y;
  });
  return { x, ys };
}

/** A round bin width giving about `target` bins over `span` seconds. */
export function niceStep(span: number, target: number): number {
  const raw = span / target;
  const steps = [0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];
  return steps.find((s) => s >= raw) ?? steps[steps.length - 1]!;
}
