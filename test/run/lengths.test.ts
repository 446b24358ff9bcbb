import { describe, expect, it } from 'vitest';
import { lengthNotes, withOverrides } from '../../src/run/prepare.js';
import { loadScenario } from '../../src/scenario/library.js';

describe('--duration', () => {
  it('longer than the scenario extends the last phase and the workloads running at its end', async () => {
    const { compiled } = await loadScenario('messengers');
    const longer = withOverrides(compiled, { durationNs: 120e9 });
    expect(longer.duration_ns).toBe(120e9);
    for (const w of compiled.workloads) {
      const after = longer.workloads.find((x) => x.name === w.name)!;
      expect(after.stop_ns).toBe(w.stop_ns >= compiled.duration_ns ? 120e9 : w.stop_ns);
    }
    expect(longer.workloads.some((w) => w.stop_ns === 120e9)).toBe(true);
    expect(longer.timeline).toEqual(compiled.timeline);
    const notes = lengthNotes(compiled, longer);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      /--duration 120 s is longer than the scenario \(\d+ s\): phase '\S+' and the workloads running at its end continue until 120 s/,
    );
  });

  it('shorter cuts the timeline and says which phases are not reached', async () => {
    const { compiled } = await loadScenario('messengers');
    const last = compiled.timeline.at(-1)!;
    const shorter = withOverrides(compiled, { durationNs: last.at_ns });
    expect(shorter.timeline.some((e) => e.phase === last.phase && e.at_ns >= last.at_ns)).toBe(
      false,
    );
    expect(shorter.workloads.every((w) => w.stop_ns <= last.at_ns)).toBe(true);
    const notes = lengthNotes(compiled, shorter).join('\n');
    expect(notes).toMatch(/cuts the scenario/);
    expect(notes).toContain(`phase '${last.phase}' (from ${last.at_ns / 1e9} s) is not reached`);
  });

  it('the same length changes nothing and says nothing', async () => {
    const { compiled } = await loadScenario('messengers');
    expect(
      lengthNotes(compiled, withOverrides(compiled, { durationNs: compiled.duration_ns })),
    ).toEqual([]);
  });
});
