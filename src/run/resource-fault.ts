/**
 * The instrument's own resources failing while it writes its results: a full disk, the
 * results folder removed, a file that cannot be written. None of these is a bug or a
 * network finding; each is named, the run goes on measuring, and it exits 6 with what it
 * measured kept (src/run/results.ts).
 */

/** errno codes a write of results can meet that are the machine's doing, not qoslab's. */
const WORDS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  EFBIG: 'the file is too large for the file system',
  ENOENT: 'the folder is gone',
  ENOTDIR: 'a part of the path is no longer a folder',
  EISDIR: 'a folder is in the way',
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'the file system is read-only',
  EIO: 'an input/output error of the device',
  ESTALE: 'a stale network file handle',
};

/** The errno code of a file system error a run should survive, or undefined. */
export function resourceCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && code in WORDS ? code : undefined;
}

/** "no space left on the device (ENOSPC)". */
export function resourceWords(code: string): string {
  return `${WORDS[code] ?? 'an error'} (${code})`;
}

/** One thing the run could not write, and when. */
export interface ResourceFault {
  /** The file (or the folder itself), relative to the results folder. */
  file: string;
  code: string;
  /** ns since t0, or null before the run started. */
  t: number | null;
}

export function faultText(f: ResourceFault): string {
  const when = f.t === null ? '' : ` at ${(f.t / 1e9).toFixed(1)} s`;
  return f.file === '.'
    ? `the results folder was removed${when}`
    : `${f.file}: ${resourceWords(f.code)}${when}`;
}
