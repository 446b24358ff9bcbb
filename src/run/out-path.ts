/**
 * Output paths are checked before anything is made: a results folder or a CSV file that
 * cannot be written is a usage error (exit 2) naming the path and the reason, never an
 * internal error after a lab was built, and never a recursive mkdir that spins on procfs.
 */
import {
  accessSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { UsageError } from '../errors.js';
import { noteMade } from './owner.js';
import { KERNEL_ROOTS } from '../files/limits.js';
import { kindOf, lstatOrUndefined } from '../files/read.js';

/** Files a run writes; any of them already in the folder means an earlier run is there. */
export const RUN_FILES = [
  'summary.json',
  'events.ndjson',
  'compiled.json',
  'datapath.ndjson',
  'scenario.yaml',
  'env.json',
  'report.html',
];

function refuse(flag: string, path: string, reason: string, advice: string[] = []): never {
  throw new UsageError(`${flag} '${path}': ${reason}`, advice);
}

/** The deepest ancestor of `abs` that exists (itself included). */
function existingAncestor(abs: string): string {
  let p = abs;
  while (!existsSync(p)) {
    const up = dirname(p);
    if (up === p) return p;
    p = up;
  }
  return p;
}

function insidePseudo(abs: string): string | undefined {
  let real = abs;
  try {
    real = join(realpathSync(existingAncestor(abs)), abs.slice(existingAncestor(abs).length));
  } catch {
    // a symlink loop or unreadable ancestor: judged by the next checks
  }
  return KERNEL_ROOTS.find((r) => [abs, real].some((p) => p === r || p.startsWith(`${r}${sep}`)));
}

function checkCommon(flag: string, path: string): string {
  if (path.includes('\0')) refuse(flag, JSON.stringify(path), 'contains a NUL byte');
  const abs = resolve(path);
  const pseudo = insidePseudo(abs);
  if (pseudo !== undefined) refuse(flag, path, `is inside ${pseudo}, a kernel file system`);
  return abs;
}

function checkWritableDir(flag: string, path: string, dir: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    refuse(flag, path, `${dir} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!st.isDirectory()) refuse(flag, path, `${dir} exists and is not a directory`);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    refuse(
      flag,
      path,
      code === 'EROFS' ? `${dir} is on a read-only file system` : `${dir} is not writable`,
    );
  }
}

/**
 * A results folder: absent (made here, one level at a time), or an existing directory we
 * may write that holds no earlier run (unless `force`). Returns the absolute path.
 */
export function prepareResultsDir(path: string, force: boolean, flag = '--out'): string {
  const abs = checkCommon(flag, path);
  const lst = lstatSafe(abs);
  if (lst !== undefined) {
    if (!statSafe(abs)?.isDirectory()) {
      refuse(
        flag,
        path,
        lst.isSymbolicLink() && statSafe(abs) === undefined
          ? 'is a dangling symbolic link (or a link loop)'
          : 'exists and is not a directory',
      );
    }
    checkWritableDir(flag, path, abs);
    const earlier = RUN_FILES.filter((f) => existsSync(join(abs, f)));
    if (earlier.length > 0 && !force) {
      refuse(flag, path, `holds an earlier run (${earlier.join(', ')})`, [
        'choose another folder, or pass --force to overwrite it',
      ]);
    }
    noteMade(abs);
    return abs;
  }
  const base = existingAncestor(abs);
  checkWritableDir(flag, path, base);
  const missing = abs.slice(base.length).split(sep).filter(Boolean);
  let p = base;
  for (const part of missing) {
    p = join(p, part);
    // The first folder made holds the rest: it and all below go to PUID (./owner.ts).
    if (p === join(base, missing[0]!)) noteMade(p);
    try {
      mkdirSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        refuse(flag, path, `cannot create ${p} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
  }
  return abs;
}

/** A file to write (e.g. a CSV): its folder exists and is writable; it is not a directory. */
export function checkOutputFile(path: string, flag: string): string {
  const abs = checkCommon(flag, path);
  const st = statSafe(abs);
  if (st !== undefined && !st.isFile()) refuse(flag, path, 'exists and is not a regular file');
  if (st === undefined && lstatSafe(abs)?.isSymbolicLink()) {
    refuse(flag, path, 'is a dangling symbolic link (or a link loop)');
  }
  const dir = dirname(abs);
  if (!existsSync(dir)) refuse(flag, path, `folder ${dir} does not exist`);
  checkWritableDir(flag, path, dir);
  noteMade(abs);
  return abs;
}

function statSafe(p: string) {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

function lstatSafe(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/**
 * Where a folder the user named really is, said when a symbolic link on its path leads
 * elsewhere (docs/security.md "Paths the user names"): the user chose the link, so it is
 * followed, but the run says where its files go before it writes them.
 */
export function realFolderNote(flag: string, path: string, abs: string): string | undefined {
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    return undefined;
  }
  return real === abs
    ? undefined
    : `${flag} ${path} is (or goes through) a symbolic link: results are written to ${real}`;
}

/**
 * Folders qoslab makes itself below one the user named (a sweep's `<cell>/rep-<r>`): made
 * one level at a time, and each must be a real folder, never a link (a folder copied from
 * elsewhere could carry one to /etc). Returns the innermost.
 */
export function prepareSubfolders(root: string, parts: string[]): string {
  let p = root;
  for (const part of parts) {
    p = join(p, part);
    const st = lstatOrUndefined(p);
    if (st === undefined) {
      try {
        mkdirSync(p);
      } catch (e) {
        refuse('folder', p, `cannot be created (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    } else if (!st.isDirectory()) {
      refuse('folder', p, `is ${kindOf(st)}; qoslab writes only into folders it can see are real`);
    }
  }
  return p;
}
