/**
 * Where `--junit FILE` and `--summary-md [FILE]` go, checked before a run starts (a typo
 * in a path must not cost a whole run), and writing them once the summary exists.
 *
 * `--summary-md` without a file appends to $GITHUB_STEP_SUMMARY (GitHub Actions sets it
 * per step, and appending is its convention); with a file, the file is replaced. Nothing
 * is written to $GITHUB_STEP_SUMMARY unless asked: a sweep of many runs would flood it.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ResourceError, UsageError } from '../errors.js';
import { noteMade } from '../run/owner.js';
import { appendToRegularFile, writeFileReplacing } from '../files/write.js';
import { resourceCode, resourceWords } from '../run/resource-fault.js';
import type { RunSummary } from '../record/summary.js';
import { junitXml } from './junit.js';
import { summaryMarkdown } from './summary-md.js';

export interface CiOutputArgs {
  junit?: string;
  summaryMd?: string;
}

export interface CiTargets {
  junit?: string;
  summaryMd?: { path: string; append: boolean };
}

/** A file qoslab can create or replace: its directory exists and is writable. */
function checkWritable(option: string, path: string): string {
  const abs = resolve(path);
  const dir = dirname(abs);
  let reason: string | undefined;
  try {
    if (statSync(abs, { throwIfNoEntry: false })?.isDirectory()) reason = 'it is a directory';
    else if (!statSync(dir).isDirectory()) reason = `${dir} is not a directory`;
    else accessSync(dir, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    reason =
      code === 'ENOENT'
        ? `the directory ${dir} does not exist`
        : code === 'EACCES' || code === 'EROFS'
          ? `the directory ${dir} is not writable (${code})`
          : (error as Error).message;
  }
  if (reason !== undefined)
    throw new UsageError(`${option} ${path}: cannot write there: ${reason}`);
  return abs;
}

export function ciTargets(args: CiOutputArgs, env = process.env): CiTargets {
  const targets: CiTargets = {};
  if (args.junit !== undefined) {
    if (args.junit === '')
      throw new UsageError('--junit needs a file name, e.g. --junit junit.xml');
    targets.junit = checkWritable('--junit', args.junit);
    noteMade(targets.junit);
  }
  if (args.summaryMd !== undefined) {
    if (args.summaryMd === '') {
      const step = env.GITHUB_STEP_SUMMARY;
      if (step === undefined || step === '') {
        throw new UsageError(
          '--summary-md without a file writes to $GITHUB_STEP_SUMMARY, which is not set',
          ['give a file: --summary-md summary.md'],
        );
      }
      targets.summaryMd = { path: checkWritable('--summary-md', step), append: true };
    } else {
      targets.summaryMd = {
        path: checkWritable('--summary-md', args.summaryMd),
        append: false,
      };
      noteMade(targets.summaryMd.path);
    }
  }
  return targets;
}

/**
 * Writes what was asked for, each made only when asked; returns the paths written. A write
 * the machine refuses (a full disk) is the instrument's resource fault (exit 6), not a bug.
 */
export function writeCiFiles(
  targets: CiTargets,
  junit: () => string,
  markdown: () => string,
): string[] {
  const written: string[] = [];
  const write = (path: string, text: string, append = false) => {
    try {
      if (append) appendToRegularFile(path, text);
      else writeFileReplacing(path, text);
    } catch (error) {
      const code = resourceCode(error);
      if (code === undefined) throw error;
      throw new ResourceError(`cannot write ${path}: ${resourceWords(code)}`);
    }
    written.push(path);
  };
  if (targets.junit !== undefined) write(targets.junit, junit());
  if (targets.summaryMd !== undefined) {
    write(targets.summaryMd.path, markdown(), targets.summaryMd.append);
  }
  return written;
}

/** A run's JUnit and Markdown summary. */
export function writeCiOutputs(
  summary: RunSummary,
  dir: string | undefined,
  targets: CiTargets,
): string[] {
  return writeCiFiles(
    targets,
    () => junitXml(summary, { resultsDir: dir }),
    () => summaryMarkdown(summary, dir),
  );
}
