/**
 * Lab devices. The addressing plan every layer shares is ../addresses.ts; it is
 * re-exported here for the orchestrator's modules.
 */
export {
  CLIENT,
  CLIENT_NAMES,
  LAB_PREFIXES,
  SERVER,
  SERVER_NAMES,
  type Endpoint,
} from '../addresses.js';

/** Device names inside the namespaces (the root namespace only sees them briefly). */
export const CLIENT_TUN = 'qlc0';
export const SERVER_TUN = 'qls0';

/**
 * Default TUN transmit queue. The kernel's 500 overflows silently at MTU 1500 under a
 * single-threaded forwarder; 5000 removed the drops there.
 */
export const TUN_TXQUEUELEN = 5000;
