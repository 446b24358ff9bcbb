import { SERVER } from '../addresses.js';

/**
 * Values a scenario may leave out, in one table so the compiler, the reference checks
 * and the documentation in compiled.ts agree.
 */
export const DEFAULTS = {
  durationNs: 60e9,
  seed: 1,
  mtu: 1500,
  ipv6: true,
  /** Phase name when a scenario has no timeline. */
  phase: 'main',
  inspectPackets: 1,
  reassembly: 'none',
  initiator: 'client',
} as const;

/** The lab's server main address and where default host addresses start. */
export const SERVER_ADDRESS = SERVER.v4;
export const SERVER_ADDRESS6 = SERVER.v6;
export const FIRST_HOST_ADDRESS = '198.19.1.1';
export const FIRST_HOST_ADDRESS6 = 'fd71:6c61:6200:2::101';
/** The built-in host: the lab's server itself, as `qoslab shell` names it. */
export const BUILTIN_HOST = 'server';
export const BUILTIN_HOST_NAMES = ['server.lab'];
