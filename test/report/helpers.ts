import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpDir } from '../helpers/tmp.js';

/**
 * A real 4 s run of fixtures/report-basic.yaml (two phases; websocket, http2, udp-voice and
 * bulk), made once with `qoslab run test/report/fixtures/report-basic.yaml --out DIR` and
 * kept as written, except env.json's hostname.
 */
export const RUN_BASIC = fileURLToPath(new URL('./fixtures/run-basic/', import.meta.url));

export const OUTPUT = fileURLToPath(new URL('./output/', import.meta.url));

/** A scratch copy of the fixture run: reports write into the run directory. */
export function copyOfRun(src = RUN_BASIC): string {
  const dir = join(tmpDir('qoslab-report-test-'), 'run');
  cpSync(src, dir, { recursive: true });
  return dir;
}
