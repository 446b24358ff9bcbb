/**
 * SIGINT, SIGTERM and SIGHUP become an AbortSignal: long work stops at its next await,
 * cleans the lab up, and the command exits 130. The process never dies in the middle of
 * teardown because of a repeated Ctrl-C; it says it is still cleaning up instead.
 */

const HANDLED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface Interrupts {
  signal: AbortSignal;
  /** The first signal received, if any. */
  received(): NodeJS.Signals | undefined;
  dispose(): void;
}

export function catchInterrupts(err: NodeJS.WritableStream = process.stderr): Interrupts {
  const controller = new AbortController();
  let first: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (first === undefined) {
      first = sig;
      controller.abort(new Error(`interrupted by ${sig}`));
    } else {
      err.write(`qoslab: ${sig} again; still removing the lab, please wait\n`);
    }
  };
  for (const sig of HANDLED) process.on(sig, onSignal);
  return {
    signal: controller.signal,
    received: () => first,
    dispose: () => {
      for (const sig of HANDLED) process.off(sig, onSignal);
    },
  };
}

/** Resolves when the signal aborts (never rejects). */
export function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}
