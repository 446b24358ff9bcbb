import { lstatSync, mkdirSync, statSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { openFreshStream, writeChunksReplacing } from '../files/write.js';
import { resourceCode, type ResourceFault } from './resource-fault.js';

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

/**
 * An NDJSON file written line by line as things happen. A write that fails (no space
 * left, the file gone) is reported once to `onError` and the file takes no more lines;
 * the caller keeps what it needs to write the file again (ResultFiles.restore).
 */
export class NdjsonFile {
  private readonly stream: WriteStream | undefined;
  failed = false;
  /** The lines written, when asked to keep them (datapath samples and flow records: nobody else keeps them). */
  readonly kept: string[] | undefined;

  constructor(path: string, onError: (e: unknown) => void, keep = false) {
    this.kept = keep ? [] : undefined;
    const fail = (e: unknown) => {
      if (this.failed) return;
      this.failed = true;
      onError(e);
    };
    // A new file, never through a link (src/files/write.ts); opening may fail at once.
    try {
      this.stream = openFreshStream(path);
      this.stream.on('error', fail);
    } catch (e) {
      this.stream = undefined;
      fail(e);
    }
  }

  write(value: unknown): void {
    const line = `${JSON.stringify(value)}\n`;
    this.kept?.push(line);
    if (!this.failed && this.stream?.destroyed === false) this.stream.write(line);
  }

  /** Resolves once the file is closed, after any write error has been reported. */
  close(): Promise<void> {
    const stream = this.stream;
    return new Promise((resolve) => {
      if (stream === undefined || stream.closed) return resolve();
      stream.once('close', () => resolve());
      if (!stream.destroyed) stream.end();
    });
  }
}

const EVENTS = 'events.ndjson';
const DATAPATH = 'datapath.ndjson';
const FLOWS = 'flows.ndjson';

/**
 * The files of a run's results folder. Every write is of the instrument's own resources:
 * one that fails for the machine's reasons (resource-fault.ts) becomes a ResourceFault,
 * reported once through `onFault`, instead of an exception that would cost the run.
 * What the run wrote is kept in memory (small files here, events by the recorder), so
 * `restore` can write the folder again at the end, after a full disk freed up or a
 * removed folder; `incomplete` then names what is still missing.
 */
export class ResultFiles {
  readonly events: NdjsonFile;
  readonly datapath: NdjsonFile;
  /** What the core metered of each flow (run/flow-log.ts); not kept in memory, so not restored. */
  readonly flows: NdjsonFile;
  readonly faults: ResourceFault[] = [];
  /** Small files as last written (scenario, compiled, env, summary). */
  private readonly small = new Map<string, string>();
  /** Files a write failed for; '.' is the folder itself. */
  private readonly broken = new Set<string>();
  private readonly ino: number | undefined;
  /** ns since t0 for the fault's time, once the run has a t0. */
  clock: (() => number) | undefined;
  /** Faults are announced through `onFault` while this is true (while the run plays). */
  announce = false;

  /** `dir` exists and was checked (out-path.ts prepareResultsDir). */
  constructor(
    readonly dir: string,
    private readonly onFault: (f: ResourceFault) => void = () => {},
  ) {
    this.ino = statSync(dir, { throwIfNoEntry: false })?.ino;
    this.events = new NdjsonFile(join(dir, EVENTS), (e) => this.fault(EVENTS, e));
    this.datapath = new NdjsonFile(join(dir, DATAPATH), (e) => this.fault(DATAPATH, e), true);
    this.flows = new NdjsonFile(join(dir, FLOWS), (e) => this.fault(FLOWS, e), true);
  }

  /** Record a failed write of `file`; anything but a resource error is a bug and thrown. */
  private fault(file: string, error: unknown): void {
    const code = resourceCode(error);
    if (code === undefined) throw error;
    this.broken.add(file);
    if (this.faults.some((f) => f.file === file && f.code === code)) return;
    const f: ResourceFault = { file, code, t: this.clock?.() ?? null };
    this.faults.push(f);
    if (this.announce) this.onFault(f);
  }

  /** False when it could not be written (the fault is recorded). */
  writeJson(name: string, value: unknown): boolean {
    return this.writeText(name, `${JSON.stringify(value, null, 2)}\n`);
  }

  writeText(name: string, text: string): boolean {
    this.small.set(name, text);
    return this.replace(name, [text]);
  }

  /**
   * Write `name` whole or not at all, as a new file (src/files/write.ts: a temporary file
   * renamed over the name, never through a link). A write that fails (a full disk) leaves
   * the file as it was and frees what the attempt took, so a smaller one may still fit.
   */
  private replace(name: string, chunks: Iterable<string>): boolean {
    const path = join(this.dir, name);
    try {
      // A folder in the way is the machine's state, like a full disk, not bad input.
      if (lstatSync(path, { throwIfNoEntry: false })?.isDirectory() === true) {
        throw Object.assign(new Error(`${path} is a folder`), { code: 'EISDIR' });
      }
      writeChunksReplacing(path, chunks);
      this.broken.delete(name);
      return true;
    } catch (error) {
      this.fault(name, error);
      return false;
    }
  }

  /**
   * Is the folder still the one the run made? Removed (or replaced) under a running run,
   * its files are written to nowhere: say so at once, and write it again at the end.
   */
  checkFolder(): void {
    if (this.broken.has('.')) return;
    const st = statSync(this.dir, { throwIfNoEntry: false });
    if (st?.isDirectory() === true && st.ino === this.ino) return;
    this.fault('.', Object.assign(new Error('removed'), { code: 'ENOENT' }));
  }

  /**
   * Write again, from memory, every file a write failed for (all of them when the folder
   * was removed), with the events as `events` gives them. Returns the files that still
   * miss data on disk.
   */
  restore(events: Iterable<unknown>): string[] {
    const all = this.broken.has('.');
    if (
      !all &&
      this.broken.size === 0 &&
      !this.events.failed &&
      !this.datapath.failed &&
      !this.flows.failed
    )
      return [];
    if (all) {
      try {
        mkdirSync(this.dir, { recursive: true });
      } catch (error) {
        this.fault('.', error);
        return [...this.small.keys(), EVENTS, DATAPATH, FLOWS];
      }
    }
    const incomplete: string[] = [];
    for (const [name, text] of this.small) {
      if (all || this.broken.has(name)) {
        if (!this.writeText(name, text)) incomplete.push(name);
      }
    }
    const lines = (function* () {
      for (const e of events) yield `${JSON.stringify(e)}\n`;
    })();
    if ((all || this.events.failed) && !this.writeLines(EVENTS, lines)) incomplete.push(EVENTS);
    const kept = this.datapath.kept ?? [];
    if ((all || this.datapath.failed) && !this.writeLines(DATAPATH, kept)) {
      incomplete.push(DATAPATH);
    }
    if ((all || this.flows.failed) && !this.writeLines(FLOWS, this.flows.kept ?? [])) {
      incomplete.push(FLOWS);
    }
    return incomplete;
  }

  /** A whole NDJSON file, in chunks of lines (events can be more than a string may hold). */
  private writeLines(name: string, lines: Iterable<string>): boolean {
    return this.replace(
      name,
      (function* () {
        let chunk = '';
        for (const line of lines) {
          chunk += line;
          if (chunk.length >= 1 << 20) {
            yield chunk;
            chunk = '';
          }
        }
        if (chunk !== '') yield chunk;
      })(),
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.events.close(), this.datapath.close(), this.flows.close()]);
  }
}
