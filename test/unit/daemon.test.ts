import { describe, expect, it } from 'vitest';
import { startDaemon } from '../../src/workloads/daemon.js';

// The starter behind Caddy and coturn, with stand-in daemons (sh): ready, failing, and
// one that cannot be started at all. No lab, no root.
describe('startDaemon', () => {
  it('resolves once the daemon says it serves, and close() ends it and cleans up', async () => {
    let cleaned = 0;
    const d = await startDaemon({
      name: 'stand-in',
      command: 'sh',
      args: ['-c', 'echo "listening" >&2; exec sleep 30'],
      onStderr: (line, ready) => {
        if (line === 'listening') ready();
      },
      cleanup: () => cleaned++,
    });
    expect(cleaned).toBe(0);
    const started = Date.now();
    await d.close();
    expect(cleaned).toBe(1);
    expect(Date.now() - started).toBeLessThan(2500); // SIGTERM sufficed
  });

  it('rejects with its last words when it exits before serving', async () => {
    let cleaned = 0;
    await expect(
      startDaemon({
        name: 'stand-in',
        command: 'sh',
        args: ['-c', 'echo "bind: address in use" >&2; exit 3'],
        cleanup: () => cleaned++,
      }),
    ).rejects.toThrow('stand-in exited (3): bind: address in use');
    expect(cleaned).toBe(1);
  });

  it('rejects, not hangs, when it cannot be spawned at all', async () => {
    let cleaned = 0;
    await expect(
      startDaemon({
        name: 'stand-in',
        command: 'sh',
        args: [],
        env: { PATH: '/nonexistent' }, // no setpriv to run it under
        cleanup: () => cleaned++,
      }),
    ).rejects.toThrow(/stand-in could not be started: .*ENOENT/);
    expect(cleaned).toBe(1);
  });
});
