import { describe, expect, it } from 'vitest';
import { labNames, newRunId, runIdOf } from '../../src/orchestrate/names.js';
import { hostsFile, defaultHostEntries, resolvConf } from '../../src/orchestrate/name-files.js';
import { procAddress } from '../../src/orchestrate/listeners.js';

describe('lab names', () => {
  it('keeps every device name within IFNAMSIZ and carries the ql prefix', () => {
    const names = labNames(newRunId());
    for (const name of [
      names.clientNs,
      names.serverNs,
      names.clientTunOutside,
      names.serverTunOutside,
    ]) {
      expect(name.length).toBeLessThanOrEqual(15);
      expect(name.startsWith('ql')).toBe(true);
      expect(runIdOf(name)).toBe(names.id);
    }
  });

  it('does not claim names that are not a lab run', () => {
    expect(runIdOf('qlz-1234')).toBeUndefined();
    expect(runIdOf('eth0')).toBeUndefined();
    expect(runIdOf('qlc-abcdefg')).toBeUndefined();
  });
});

describe('namespace name files', () => {
  it('resolves server.lab to both families, and only IPv4 without IPv6', () => {
    const both = hostsFile(defaultHostEntries(), true);
    expect(both).toMatch(/^198\.19\.0\.1\tserver\.lab server$/m);
    expect(both).toMatch(/^fd71:6c61:6200:2::1\tserver\.lab server$/m);
    const v4 = hostsFile(defaultHostEntries(), false);
    expect(v4).not.toContain('fd71');
    expect(v4).not.toContain('::1');
  });

  it("points DNS at the lab's resolver only, with glibc's timeouts", () => {
    const conf = resolvConf('198.19.0.53');
    expect(conf).toMatch(/^nameserver 198\.19\.0\.53$/m);
    expect(conf.match(/nameserver/g)).toHaveLength(1);
    expect(conf).toMatch(/^search lab$/m);
    expect(conf).toMatch(/^options timeout:5 attempts:2$/m);
  });
});

describe('procAddress', () => {
  it('writes addresses as /proc/net tables print them (32-bit words, little-endian)', () => {
    // As `cat /proc/net/udp` showed the resolver's 198.19.0.53:53 and ::1.
    expect(procAddress('198.19.0.53')).toBe('350013C6');
    expect(procAddress('fd71:6c61:6200:2::53')).toBe('616C71FD020000620000000053000000');
    expect(procAddress('::1')).toBe('00000000000000000000000001000000');
  });
});
