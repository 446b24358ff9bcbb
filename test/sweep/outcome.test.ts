import { describe, expect, it } from 'vitest';
import { sweepExitCode } from '../../src/sweep/outcome.js';

const ok = { status: 'completed', exit_code: 0 };
const missed = { status: 'completed', exit_code: 1 };
const unjudged = { status: 'completed', exit_code: 5 };
const dead = { status: 'failed', exit_code: 4 };
const diskFull = { status: 'failed', exit_code: 6 };
const threw = { status: 'failed', exit_code: null };

describe('a sweep shard exit code', () => {
  it('by default fails on a failed expectation, and harder on a run that could not run', () => {
    expect(sweepExitCode([ok, ok], 'expectations')).toBe(0);
    expect(sweepExitCode([ok, missed, unjudged], 'expectations')).toBe(1);
    expect(sweepExitCode([ok, unjudged], 'expectations')).toBe(5);
    expect(sweepExitCode([missed, dead], 'expectations')).toBe(4);
    expect(sweepExitCode([dead, diskFull], 'expectations')).toBe(6);
    expect(sweepExitCode([threw], 'expectations')).toBe(4);
    expect(sweepExitCode([], 'expectations')).toBe(0);
  });

  it('with --fail-on runs, only runs that could not run fail it', () => {
    expect(sweepExitCode([ok, missed, unjudged], 'runs')).toBe(0);
    expect(sweepExitCode([missed, dead], 'runs')).toBe(4);
    expect(sweepExitCode([ok, { status: 'interrupted', exit_code: 130 }], 'runs')).toBe(130);
  });

  it('a run that completed on a results disk that filled or vanished is a resource fault', () => {
    // A run keeps measuring through a full disk (status completed, exit 6): the instrument
    // failed it, so the shard fails with 6 however it is told to fail.
    const completedOnFullDisk = { status: 'completed', exit_code: 6 };
    expect(sweepExitCode([ok, completedOnFullDisk], 'runs')).toBe(6);
    expect(sweepExitCode([missed, completedOnFullDisk], 'expectations')).toBe(6);
  });
});
