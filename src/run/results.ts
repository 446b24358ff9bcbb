import { createWriteStream, writeFileSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';

/** `results/<UTC time>-<name>` (time as 20250101T120000Z), unless the caller chose. */
export function resultsDir(name: string, out: string | undefined, at = new Date()): string {
  if (out !== undefined) return resolve(out);
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return resolve('results', `${stamp}-${name.replace(/[^A-Za-z0-9._-]/g, '_')}`);
}

/** An NDJSON file written line by line as things happen. */
export class NdjsonFile {
  private readonly stream: WriteStream;
  constructor(path: string) {
    this.stream = createWriteStream(path, { flags: 'w' });
  }
  write(value: unknown): void {
    this.stream.write(`${JSON.stringify(value)}\n`);
  }
  close(): Promise<void> {
    return new Promise((r) => this.stream.end(() => r()));
  }
}

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
    writeFileSync(join(this.dir, name), `${JSON.stringify(value, null, 2)}\n`);
  }

  writeText(name: string, text: string): void {
    writeFileSync(join(this.dir, name), text);
  }

  async close(): Promise<void> {
    await Promise.all([this.events.close(), this.datapath.close(), this.flows.close()]);
  }
}
