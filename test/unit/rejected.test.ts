import { describe, expect, it } from 'vitest';
import { ExitCode, UsageError } from '../../src/errors.js';
import { NativeError } from '../../src/native/index.js';
import { scenarioRejection } from '../../src/native/rejected.js';

describe('scenarioRejection', () => {
  it("turns the core's QL_BAD_CONFIG into a usage error (exit 2) that names it", () => {
    const e = scenarioRejection(new NativeError('QL_BAD_CONFIG', 'links.up.rate: out of range'));
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).exitCode).toBe(ExitCode.usage);
    expect((e as UsageError).message).toBe(
      'the core rejected the scenario (QL_BAD_CONFIG): links.up.rate: out of range',
    );
  });

  it('leaves every other error as it is', () => {
    const tun = new NativeError('QL_TUN_OPEN', 'no /dev/net/tun');
    expect(scenarioRejection(tun)).toBe(tun);
    const plain = new Error('x');
    expect(scenarioRejection(plain)).toBe(plain);
  });
});
