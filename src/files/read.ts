/**
 * Reading files qoslab was handed (docs/security.md): results folders and the files a
 * scenario names are untrusted. A file is opened without following a symbolic link in
 * its last component (unless the user named the path) and without blocking (O_NONBLOCK:
 * a FIFO opens at once instead of waiting for a writer), then judged by what was opened
 * (fstat): only a regular file within its size cap is read, and never beyond the cap
 * (procfs files report size 0). Errors name the path and why, never a byte of the file.
 */
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { UsageError } from '../errors.js';
import { capText } from './limits.js';

export interface ReadOptions {
  /** Larger files are refused before a byte is read. */
  maxBytes: number;
  /** Follow a symbolic link at the path itself: only for paths the user named. */
  follow?: boolean;
}

/** Why a path that is not a regular file cannot be read, in words. */
export function kindOf(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

const OPEN_ERRORS: Record<string, string> = {
  ENOENT: 'does not exist',
  EACCES: 'cannot be read (permission denied)',
  EPERM: 'cannot be read (permission denied)',
  ELOOP: 'is a symbolic link; only regular files are read here',
  ENXIO: 'is a socket or a device without a reader, not a regular file',
  ENOTDIR: 'has a part that is not a folder',
  ENAMETOOLONG: 'is too long a path',
};

/** A file qoslab will not read or write: a UsageError (exit 2) naming the path and why. */
export class FileRefused extends UsageError {
  constructor(
    readonly path: string,
    readonly why: string,
    advice: string[] = [],
  ) {
    super(`${path}: ${why}`, advice);
  }
}

export function refused(path: string, why: string, advice: string[] = []): FileRefused {
  return new FileRefused(path, why, advice);
}

function openError(path: string, e: unknown): UsageError {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return refused(path, OPEN_ERRORS[code] ?? `cannot be opened (${code || 'error'})`);
}

/**
 * The bytes of a regular file of at most `maxBytes`; UsageError otherwise. `undefined`
 * when `optional` and the path does not exist.
 */
export function readRegularFile(path: string, o: ReadOptions): Buffer;
export function readRegularFile(
  path: string,
  o: ReadOptions & { optional: true },
): Buffer | undefined;
export function readRegularFile(
  path: string,
  o: ReadOptions & { optional?: boolean },
): Buffer | undefined {
  if (path.includes('\0')) throw refused(JSON.stringify(path), 'contains a NUL byte');
  const flags =
    constants.O_RDONLY | constants.O_NONBLOCK | (o.follow === true ? 0 : constants.O_NOFOLLOW);
  let fd: number;
  try {
    fd = openSync(path, flags);
  } catch (e) {
    if (o.optional === true && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw openError(path, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw refused(path, `is ${kindOf(st)}, not a regular file`);
    if (st.size > o.maxBytes) {
      throw refused(path, `is ${st.size} bytes; at most ${capText(o.maxBytes)} are read`);
    }
    return readCapped(path, fd, st.size, o.maxBytes);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw refused(path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    closeSync(fd);
  }
}

/**
 * At most `max` bytes: one byte more than the cap tells a file that grew since fstat (or
 * a procfs file, which reports size 0) apart from one that fits.
 */
function readCapped(path: string, fd: number, size: number, max: number): Buffer {
  let buf = Buffer.alloc(Math.min(max + 1, Math.max(size + 1, 64 * 1024)));
  let used = 0;
  for (;;) {
    if (used === buf.length) {
      if (buf.length > max) throw refused(path, `grew beyond ${capText(max)} while read`);
      const bigger = Buffer.alloc(Math.min(max + 1, buf.length * 2));
      buf.copy(bigger, 0, 0, used);
      buf = bigger;
    }
    const n = readSync(fd, buf, used, buf.length - used, null);
    if (n === 0) return buf.subarray(0, used);
    used += n;
  }
}

/** A regular file's text (UTF-8). */
export function readTextFile(path: string, o: ReadOptions): string;
export function readTextFile(path: string, o: ReadOptions & { optional: true }): string | undefined;
export function readTextFile(
  path: string,
  o: ReadOptions & { optional?: boolean },
): string | undefined {
  const bytes =
    o.optional === true
      ? readRegularFile(path, { ...o, optional: true })
      : readRegularFile(path, o);
  return bytes?.toString('utf8');
}

/** Line and column (1-based) of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: offset - start + 1 };
}

/** Texts up to this size are re-read by the YAML parser to locate a JSON error. */
const LOCATE_JSON_BYTES = 1024 * 1024;

/**
 * Where JSON.parse stopped, as " at line L, column C", or ''. Only the position is kept:
 * V8's message quotes the text around the error, which may be anything. V8 gives no
 * position for an unexpected token, so the YAML parser (JSON is YAML 1.2) locates those.
 */
export function jsonErrorAt(text: string, error: unknown): string {
  const m = /at position (\d+)/.exec((error as Error).message);
  let offset = m === null ? undefined : Number(m[1]);
  if (offset === undefined && text.length <= LOCATE_JSON_BYTES) {
    offset = parseDocument(text, { schema: 'json', prettyErrors: false }).errors[0]?.pos[0];
  }
  if (offset === undefined) return '';
  const { line, col } = lineColumn(text, offset);
  return ` at line ${line}, column ${col}`;
}

/** A regular file parsed as JSON; UsageError naming the path and position when it is not. */
export function readJsonFile(path: string, o: ReadOptions): unknown;
export function readJsonFile(path: string, o: ReadOptions & { optional: true }): unknown;
export function readJsonFile(path: string, o: ReadOptions & { optional?: boolean }): unknown {
  const text =
    o.optional === true ? readTextFile(path, { ...o, optional: true }) : readTextFile(path, o);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw refused(path, `is not valid JSON${jsonErrorAt(text, e)}`);
  }
}

/** What is at `path`, without following a link there; undefined when nothing is. */
export function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * `root/parts...`, where each part is a real folder (not a link), so reading below it
 * stays inside `root`. undefined when a part does not exist; UsageError when one is a
 * link or not a folder.
 */
export function folderInside(root: string, parts: string[]): string | undefined {
  let p = root;
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..' || part.includes('/')) {
      throw refused(join(p, part), 'is not a plain folder name');
    }
    p = join(p, part);
    const st = lstatOrUndefined(p);
    if (st === undefined) return undefined;
    if (!st.isDirectory()) throw refused(p, `is ${kindOf(st)}, not a folder`);
  }
  return p;
}
