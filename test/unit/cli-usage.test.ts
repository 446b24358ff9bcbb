import { describe, expect, it } from 'vitest';
import { qoslab } from '../helpers/cli.js';

describe('command line errors', () => {
  it('suggests the command meant for a misspelt one, exit 2', async () => {
    const r = await qoslab(['doctr']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Did you mean doctor?');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('rejects an unknown option with exit 2', async () => {
    const r = await qoslab(['shell', '--bogus', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown argument: bogus/);
  });

  it('rejects a bad --mtu before touching the machine', async () => {
    const r = await qoslab(['shell', '--mtu', '42', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--mtu must be an integer from 1280 to 65535, got 42');
  });

  it('asks for a command when given none', async () => {
    const r = await qoslab([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Name a command');
  });

  it('prints help for shell with its examples', async () => {
    const r = await qoslab(['shell', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--server 'iperf3 -s -1'");
    expect(r.stdout).toContain('QOSLAB_SERVER_ADDR6');
  });
});
