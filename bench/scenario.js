// Scenarios for the bench, written inline and compiled the way a user's file is.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../dist/index.js';

/** Compile a scenario written inline (the same path a user's file takes). */
export async function compiled(yaml) {
  const dir = mkdtempSync(join(tmpdir(), 'qoslab-bench-'));
  try {
    const file = join(dir, 'bench.yaml');
    writeFileSync(file, yaml);
    return (await loadScenario(file)).compiled;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
