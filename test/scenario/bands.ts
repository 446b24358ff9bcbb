/**
 * Two-sided bounds: each expectation of a library scenario belongs to a band — a lower
 * and an upper bound on the same workload, metric and phase — so a reproduction that is
 * wrong in either direction fails (a `goodput <= 160kbit` alone passes at 0 kbit/s). A
 * ratio (delivery, loss) pinned within 10 points of 0 or 100 % needs no second line:
 * the edge of its range is the other bound (`delivery >= 99%` is 99-100 %). `==` is both.
 */
import type { CompiledExpectation } from '../../src/scenario/compiled.js';

/** How far from its range's edge a ratio's one bound may be and still pin it. */
export const RATIO_PIN = 0.1;

const lowerOps = new Set(['>', '>=', '==']);
const upperOps = new Set(['<', '<=', '==']);

/** Why expectation `i` has no band, or undefined when it has one. */
export function oneSided(expect: CompiledExpectation[], i: number): string | undefined {
  const e = expect[i]!;
  const same = expect.filter(
    (x) => x.workload === e.workload && x.metric === e.metric && x.phase === e.phase,
  );
  const lower = same.filter((x) => lowerOps.has(x.op)).map((x) => x.value);
  const upper = same.filter((x) => upperOps.has(x.op)).map((x) => x.value);
  const low = lower.length === 0 ? undefined : Math.max(...lower);
  const high = upper.length === 0 ? undefined : Math.min(...upper);
  if (e.kind === 'ratio') {
    if (low !== undefined && low >= 1 - RATIO_PIN) return undefined;
    if (high !== undefined && high <= RATIO_PIN) return undefined;
  }
  if (low !== undefined && high !== undefined) {
    return low <= high ? undefined : `its bounds exclude each other (${low} > ${high})`;
  }
  const scope = `${e.workload}.${e.metric}${e.phase === null ? '' : ` during ${e.phase}`}`;
  return `'${e.text}' has no ${low === undefined ? 'lower' : 'upper'} bound on ${scope}`;
}
