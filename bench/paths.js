// The two paths compared: the kernel's veth pair (baseline) and a qoslab lab.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Lab } from '../dist/index.js';

const run = promisify(execFile);
const ip = (...args) => run('ip', args);

/** Two namespaces joined by a veth pair: the fastest path the kernel offers between them. */
export async function openVeth(mtu) {
  const id = randomBytes(3).toString('hex');
  const clientNs = `qlbc-${id}`;
  const serverNs = `qlbs-${id}`;
  const path = {
    name: 'veth',
    clientNs,
    serverNs,
    serverAddr: '198.19.0.1',
    async close() {
      await ip('netns', 'delete', clientNs).catch(() => {});
      await ip('netns', 'delete', serverNs).catch(() => {});
    },
  };
  try {
    await ip('netns', 'add', clientNs);
    await ip('netns', 'add', serverNs);
    await ip(
      '-n',
      clientNs,
      'link',
      'add',
      'qlb0',
      'mtu',
      String(mtu),
      'type',
      'veth',
      'peer',
      'qlb1',
      'netns',
      serverNs,
    );
    await ip('-n', serverNs, 'link', 'set', 'qlb1', 'mtu', String(mtu));
    await ip('-n', clientNs, 'addr', 'add', '198.18.0.1/15', 'dev', 'qlb0');
    await ip('-n', serverNs, 'addr', 'add', '198.19.0.1/15', 'dev', 'qlb1');
    for (const [ns, dev] of [
      [clientNs, 'qlb0'],
      [serverNs, 'qlb1'],
    ]) {
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      await ip('-n', ns, 'link', 'set', dev, 'up');
    }
  } catch (error) {
    await path.close();
    throw error;
  }
  return path;
}

/**
 * A qoslab lab: unimpaired, or shaped by a compiled scenario with `active` policies on.
 * `flowMetrics: false` switches the core's per-flow metering off, `capture` writes a
 * pcapng (the bench weighs both).
 */
export async function openLab(
  mtu,
  offload,
  scenario = undefined,
  name = undefined,
  active = [],
  { flowMetrics = true, capture = undefined } = {},
) {
  const lab = await Lab.open({ mtu, offload, scenario, flowMetrics, capture });
  if (active.length > 0) lab.setActivePolicies(active);
  return {
    name: name ?? (offload ? 'qoslab' : 'qoslab (no offload)'),
    clientNs: lab.names.clientNs,
    serverNs: lab.names.serverNs,
    serverAddr: lab.server.v4,
    // The TUNs inside their namespaces (src/orchestrate/addresses.ts CLIENT_TUN, SERVER_TUN).
    clientTun: 'qlc0',
    serverTun: 'qls0',
    counters: () => lab.counters(),
    /** The capture's final counters (packets written, lost), once closed. */
    captured: () => lab.captured,
    close: () => lab.close(),
  };
}
