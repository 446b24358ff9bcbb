/** What command handlers share with main: the streams and the exit code to end with. */
export interface CommandContext {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream;
  exitCode: number;
}
