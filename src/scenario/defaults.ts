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
  workloadIntervalNs: 1e9,
  messageSizeBytes: 200,
  bulkSizeBytes: 1e6,
  deadlineNs: 5e9,
  /** A voice frame later than this is of no use to a call (jitter buffers hold ~60 ms). */
  voiceDeadlineNs: 1e9,
  voiceFrameNs: 20e6,
  codec: 'opus',
} as const;

/** The lab's server main address and where default host addresses start. */
export const SERVER_ADDRESS = '198.19.0.1';
export const SERVER_ADDRESS6 = 'fd71:6c61:6200:2::1';
export const FIRST_HOST_ADDRESS = '198.19.1.1';
export const FIRST_HOST_ADDRESS6 = 'fd71:6c61:6200:2::101';
/** The built-in host: the lab's server itself, as `qoslab shell` names it. */
export const BUILTIN_HOST = 'server';
export const BUILTIN_HOST_NAMES = ['server.lab'];

/** Per-protocol port and TLS when a workload gives none. */
export const PROTOCOL_DEFAULTS: Record<string, { port: number; tls: boolean }> = {
  websocket: { port: 443, tls: true },
  http2: { port: 443, tls: true },
  http3: { port: 443, tls: true },
  longpoll: { port: 443, tls: true },
  mqtt: { port: 8883, tls: true },
  // MTProto- and Noise-like framing: its own encryption over plain TCP.
  'tcp-framed': { port: 443, tls: false },
  'udp-voice': { port: 3478, tls: false },
  bulk: { port: 443, tls: true },
};
