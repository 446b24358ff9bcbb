/**
 * mahimahi delivery-opportunity traces, read from the bytes of a file a scenario names:
 * one millisecond count per line, each line one chance to deliver 1504 bytes, the file
 * looping on its last timestamp (native/core/src/shape/trace.rs replays them). The
 * result is run-length encoded — [ms, how many opportunities at that ms, ...] — since
 * real traces repeat a millisecond once per packet the link could carry in it, so the
 * core's memory grows with the trace's length in time, not with its rate.
 *
 * Problems name a line and column and what was expected, never what the file holds: the
 * file may be anything (a shared scenario once pointed `trace:` at /proc/self/environ).
 */

/** A timestamp beyond a week (the longest duration) is not a trace. */
export const MAX_TRACE_MS = 168 * 3600 * 1000;
/** Distinct timestamps: over 8 minutes of a trace with one at every millisecond. */
export const MAX_TRACE_STEPS = 500_000;

export type TraceParse = { ok: true; runs: number[] } | { ok: false; problem: string };

const NL = 0x0a;
const isBlank = (b: number) => b === 0x20 || b === 0x09 || b === 0x0d;
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;

export function parseTrace(bytes: Uint8Array): TraceParse {
  const runs: number[] = [];
  let line = 1;
  let i = 0;
  const fail = (at: number, what: string): TraceParse => {
    let start = at;
    while (start > 0 && bytes[start - 1] !== NL) start--;
    return { ok: false, problem: `line ${line}, column ${at - start + 1}: ${what}` };
  };
  while (i < bytes.length) {
    while (i < bytes.length && isBlank(bytes[i]!)) i++;
    if (i < bytes.length && bytes[i] !== NL) {
      if (!isDigit(bytes[i]!)) {
        return fail(
          i,
          'expected a whole number of milliseconds (a mahimahi trace has one per line)',
        );
      }
      const start = i;
      let ms = 0;
      while (i < bytes.length && isDigit(bytes[i]!)) {
        ms = ms * 10 + (bytes[i]! - 0x30);
        if (ms > MAX_TRACE_MS)
          return fail(i, `a timestamp may be at most ${MAX_TRACE_MS} ms (168h)`);
        i++;
      }
      while (i < bytes.length && isBlank(bytes[i]!)) i++;
      if (i < bytes.length && bytes[i] !== NL) {
        return fail(i, 'expected the end of the line after the number of milliseconds');
      }
      const last = runs.length - 2;
      if (last >= 0 && ms < runs[last]!) {
        return fail(start, 'timestamps must not decrease');
      }
      if (last >= 0 && ms === runs[last]) runs[last + 1] = runs[last + 1]! + 1;
      else if (runs.length / 2 >= MAX_TRACE_STEPS) {
        return fail(start, `more than ${MAX_TRACE_STEPS} distinct timestamps`);
      } else runs.push(ms, 1);
    }
    i++;
    line++;
  }
  if (runs.length === 0) return { ok: false, problem: 'has no delivery opportunities (no lines)' };
  if (runs[runs.length - 2] === 0) {
    return { ok: false, problem: 'must end after 0 ms: the trace loops on its last timestamp' };
  }
  return { ok: true, runs };
}
