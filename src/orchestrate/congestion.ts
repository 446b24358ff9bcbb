/**
 * The TCP congestion control of the lab's namespaces. A new namespace inherits the
 * host's default (BBR on some machines, CUBIC on most), and that decides how far a bulk
 * sender fills a link's queue: BBR holds it near one bandwidth-delay product, loss-based
 * Reno and CUBIC fill it until it drops. A scenario that reproduces a queue measured
 * under loss-based senders (`network.tcp-congestion`) pins it in both namespaces.
 */
import { readFileSync } from 'node:fs';
import { LabError } from '../errors.js';
import { exec } from './exec.js';

const ALLOWED = '/proc/sys/net/ipv4/tcp_allowed_congestion_control';

/** Set `algorithm` as the default of new TCP sockets in each namespace. */
export async function setCongestionControl(namespaces: string[], algorithm: string): Promise<void> {
  for (const ns of namespaces) {
    try {
      await exec('ip', [
        'netns',
        'exec',
        ns,
        'sysctl',
        '-qw',
        `net.ipv4.tcp_congestion_control=${algorithm}`,
      ]);
    } catch (e) {
      throw new LabError(
        `this kernel does not let the lab's namespaces use TCP congestion control '${algorithm}' ` +
          `(network.tcp-congestion): a namespace may choose only what ${ALLOWED} lists` +
          ` (${allowedText()}), and the module must be loaded; ${(e as Error).message}`,
      );
    }
  }
}

function allowedText(): string {
  try {
    return `here: ${readFileSync(ALLOWED, 'utf8').trim()}`;
  } catch {
    return 'unreadable here';
  }
}
