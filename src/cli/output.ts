import { exitCodeOf, QoslabError } from '../errors.js';

/** Marks for check lists; plain ASCII when the output is not a terminal that shows colour. */
export function marks(stream: NodeJS.WritableStream & { isTTY?: boolean }) {
  const colour = stream.isTTY === true && process.env.NO_COLOR === undefined;
  const paint = (code: number, text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  return {
    ok: paint(32, colour ? '✔' : 'ok  '),
    fail: paint(31, colour ? '✖' : 'FAIL'),
    warn: paint(33, colour ? '!' : 'warn'),
  };
}

/** Print an error the way every command does: one line, then advice; never a stack trace. */
export function printError(error: unknown, err: NodeJS.WritableStream = process.stderr): number {
  if (error instanceof QoslabError) {
    err.write(`qoslab: ${error.message}\n`);
    for (const line of error.advice) err.write(`  - ${line}\n`);
    return exitCodeOf(error);
  }
  const message = error instanceof Error ? error.message : String(error);
  err.write(`qoslab: internal error: ${message}\n`);
  if (process.env.QOSLAB_DEBUG && error instanceof Error && error.stack) {
    err.write(`${error.stack}\n`);
  } else {
    err.write('  - this is a bug; set QOSLAB_DEBUG=1 for a stack trace and report it\n');
  }
  return exitCodeOf(error);
}
