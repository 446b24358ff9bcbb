import type { WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { openFreshStream, writeFileReplacing } from '../files/write.js';

/**
 * `results/<UTC time>-<name>` (time as 20250101T120000Z), unless the caller chose. The
 * parent is `$QOSLAB_RESULTS` when set: the container image sets /results, its bind mount,
 * where the relative default made /results/results/<time>-<name>.
 */
export function resultsDir(name: string, out: string | undefined, at = new Date()): string {
  if (out !== undefined) return resolve(out);
  const parent = process.env.QOSLAB_RESULTS || 'results';
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return resolve(parent, `${stamp}-${name.replace(/[^A-Za-z0-9._-]/g, '_')}`);
}

/** An NDJSON file written line by line as things happen, into a new file (never through a link). */
export class NdjsonFile {
  private readonly stream: WriteStream;
  constructor(path: string) {
    this.stream = openFreshStream(path);
  }
  write(value: unknown): void {
    this.stream.write(`${JSON.stringify(value)}\n`);
  }
  close(): Promise<void> {
    return new Promise((r) => this.stream.end(() => r()));
  }
}

/** A run's files; each is written as a new file, so a link left in a reused folder is replaced. */
export class ResultFiles {
  readonly events: NdjsonFile;
  readonly datapath: NdjsonFile;
  /** What the core metered of each flow (run/flow-log.ts). */
  readonly flows: NdjsonFile;

  /** `dir` exists and was checked (out-path.ts prepareResultsDir). */
  constructor(readonly dir: string) {
    this.events = new NdjsonFile(join(dir, 'events.ndjson'));
    this.datapath = new NdjsonFile(join(dir, 'datapath.ndjson'));
    this.flows = new NdjsonFile(join(dir, 'flows.ndjson'));
  }

  writeJson(name: string, value: unknown): void {
    writeFileReplacing(join(this.dir, name), `${JSON.stringify(value, null, 2)}\n`);
  }

  writeText(name: string, text: string): void {
    writeFileReplacing(join(this.dir, name), text);
  }

  async close(): Promise<void> {
    await Promise.all([this.events.close(), this.datapath.close(), this.flows.close()]);
  }
}
