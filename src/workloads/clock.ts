/** The one clock of the agents: CLOCK_MONOTONIC, shared by both namespaces. */
export const now = (): bigint => process.hrtime.bigint();

/** Sleep until an absolute monotonic instant (or until aborted). */
export function sleepUntil(atAbs: bigint, signal?: AbortSignal): Promise<void> {
  const ms = Number(atAbs - now()) / 1e6;
  return sleepMs(ms, signal);
}

export function sleepMs(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A small seeded PRNG (mulberry32): backoff jitter must be reproducible for a seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
