/**
 * Writing files into folders that may have come from elsewhere (docs/security.md): a run
 * folder given to `report`, an `--out` reused with --force. Nothing is ever written
 * through a symbolic link: a whole file is written to a new temporary file in the same
 * folder (created with O_EXCL|O_NOFOLLOW) and renamed over the name, which replaces a
 * link there instead of following it; a streamed file is created fresh after whatever
 * had its name is removed. I/O errors (a full disk, a read-only file system) are thrown
 * unchanged for the caller to judge; only a name taken by a folder is a UsageError.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  createWriteStream,
  fstatSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
  type WriteStream,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { kindOf, lstatOrUndefined, refused } from './read.js';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_APPEND, O_NONBLOCK } = constants;
const FRESH = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;

function writeAll(fd: number, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** A folder at the name cannot be replaced by a file: say so rather than fail in rename. */
function refuseFolder(path: string): void {
  const st = lstatOrUndefined(path);
  if (st?.isDirectory()) throw refused(path, 'is a folder; qoslab writes a file of that name');
}

/**
 * `path` holds `data` afterwards, as a new regular file: whatever was at the name (a file,
 * a symbolic link, a FIFO) is replaced, and nothing a link pointed to is touched.
 */
export function writeFileReplacing(path: string, data: string | Uint8Array, mode = 0o644): void {
  writeChunksReplacing(path, [data], mode);
}

/**
 * As writeFileReplacing, for a file written chunk by chunk (more than one string may
 * hold: a run's events). The file appears whole or not at all: a write that fails (a
 * full disk) leaves what had the name as it was, and frees what the attempt took.
 */
export function writeChunksReplacing(
  path: string,
  chunks: Iterable<string | Uint8Array>,
  mode = 0o644,
): void {
  refuseFolder(path);
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, FRESH, mode);
  try {
    for (const chunk of chunks) writeAll(fd, chunk);
    closeSync(fd);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // closing after a failed write may fail too: the write is the error to report
    }
    unlinkSync(tmp);
    throw e;
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    unlinkSync(tmp);
    throw e;
  }
}

/** A stream into a new regular file at `path`; whatever had the name is removed first. */
export function openFreshStream(path: string, mode = 0o644): WriteStream {
  refuseFolder(path);
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const fd = openSync(path, FRESH, mode);
  return createWriteStream('', { fd });
}

/**
 * Appends to an existing or new regular file (the CI job summary, $GITHUB_STEP_SUMMARY):
 * a link, FIFO or device there is refused, and opening never waits.
 */
export function appendToRegularFile(path: string, data: string): void {
  let fd: number;
  try {
    fd = openSync(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o644);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP')
      throw refused(path, 'is a symbolic link; qoslab appends only to a regular file');
    if (code === 'ENXIO')
      throw refused(path, 'is a FIFO or device without a reader, not a regular file');
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw refused(path, `is ${kindOf(st)}, not a regular file`);
    writeAll(fd, data);
  } finally {
    closeSync(fd);
  }
}
