import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

// Registered when a test file imports this module, so it runs after that file's tests:
// cases read their run folders after each run, so removal waits for the file's end.
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory under the system temp folder, removed after the test file. */
export function tmpDir(prefix: string): string {
  const dir = mkdtempSync(join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}
