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
  /**
   * A packet capture keeps 2048 bytes of each packet: every header (IPv6 and TCP with
   * options stay under 120 bytes) and a whole ClientHello (Chrome's post-quantum one is
   * about 1.8 KB), while a 64 KB super-packet costs 2 KB.
   */
  captureSnaplen: 2048,
  /** 100 MB files, the newest 5 kept: a capture holds 500 MB at most. */
  captureFileBytes: 100e6,
  captureFiles: 5,
} as const;

/** The lab's server main address and where default host addresses start. */
export const SERVER_ADDRESS = SERVER.v4;
export const SERVER_ADDRESS6 = SERVER.v6;
export const FIRST_HOST_ADDRESS = '198.19.1.1';
export const FIRST_HOST_ADDRESS6 = 'fd71:6c61:6200:2::101';
/** The built-in host: the lab's server itself, as `qoslab shell` names it. */
export const BUILTIN_HOST = 'server';
export const BUILTIN_HOST_NAMES = ['server.lab'];
