import { describe, expect, it } from 'vitest';
import { libraryNames } from '../../src/scenario/library.js';
import { isRoot, qoslab } from '../helpers/cli.js';
import { tmpOut } from './helpers.js';

// Every file in scenarios/ runs: a few seconds of each across a real lab must end with
// 0 (expectations met) or 1 (an expectation failed, which a cut-short run may well do),
// never 2 (the scenario cannot be run) or 3 (no lab). A new scenario that qoslab cannot
// carry fails here.
const names = await libraryNames();

// Labs are independent namespaces, and only exit codes are judged here (no timing), so
// a few run at once (vitest's maxConcurrency, 5) to keep the file short.
describe.skipIf(!isRoot).concurrent('every shipped scenario runs', () => {
  it.each(names)('%s', async (name) => {
    const r = await qoslab(['run', name, '--duration', '3s', '--quiet', '--out', tmpOut()], 90_000);
    expect([0, 1], `exit ${r.code}\n${r.stderr}`).toContain(r.code);
  });
});
