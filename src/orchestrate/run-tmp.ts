/**
 * A run's private temporary folder (agent configs, the run CA's private key). Its name
 * carries the owner's pid and process start time, so `qoslab cleanup` can remove the
 * folder of a run that was killed — and only of one whose process is provably gone.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { processStartTime } from './marker.js';

const PREFIX = 'qoslab-run-';
const NAME = /^qoslab-run-(\d+)\.(\d+)-[A-Za-z0-9]{6}$/;

export function makeRunTmp(dir = os.tmpdir()): string {
  const start = processStartTime(process.pid) ?? '0';
  return mkdtempSync(join(dir, `${PREFIX}${process.pid}.${start}-`));
}

/** Folders of runs whose process is gone (a pid reused by another process counts as gone). */
export function deadRunTmps(dir = os.tmpdir()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((name) => {
      const m = NAME.exec(name);
      return m !== null && processStartTime(Number(m[1])) !== m[2];
    })
    .map((name) => join(dir, name));
}

export function removeRunTmp(path: string): void {
  rmSync(path, { recursive: true, force: true });
}
