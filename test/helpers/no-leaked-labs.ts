import { afterAll, beforeAll, expect } from 'vitest';
import { ownerAlive, readMarkers } from '../../src/orchestrate/marker.js';

// Loaded before every test file (vitest setupFiles): a lab whose run process died without
// removing it is a cleanup bug, and it would also show up in a later file's `qoslab cleanup`
// output. Markers that existed before this file started are not this file's doing.
let before = new Set<string>();

beforeAll(() => {
  before = new Set(readMarkers().map((m) => m.id));
});

afterAll(() => {
  const leaked = readMarkers().filter((m) => !before.has(m.id) && !ownerAlive(m));
  expect(
    leaked.map((m) => `run ${m.id} (pid ${m.pid}, started ${m.startedAt})`),
    'labs left behind by a run process that is gone',
  ).toEqual([]);
});
