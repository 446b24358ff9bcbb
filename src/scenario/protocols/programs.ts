/**
 * The system programs workload agents start, by name: what a protocol says it needs for a
 * workload (its registry row's `programs`), what `qoslab run` checks before it makes a lab,
 * and how to install each. One table, so the check, the agents and doctor agree on paths.
 */

export type ProgramName = 'chromium' | 'caddy' | 'gtlsclient' | 'turnserver';

export interface Program {
  /** A path, or a command looked up on PATH. */
  command: string;
  /** The Debian package that has it. */
  package: string;
  /** What the agents use it for, as a user reads it. */
  role: string;
}

export const PROGRAMS: Record<ProgramName, Program> = {
  chromium: {
    // Read when asked: QOSLAB_CHROMIUM names another build.
    get command() {
      return process.env.QOSLAB_CHROMIUM ?? '/usr/bin/chromium';
    },
    package: 'chromium',
    role: 'headless browser: the http3 client and both ends of webrtc calls',
  },
  caddy: { command: 'caddy', package: 'caddy', role: 'the HTTP/3 server of http3 workloads' },
  gtlsclient: {
    command: 'gtlsclient',
    package: 'ngtcp2-client',
    role: "ngtcp2's QUIC client (http3 with client: ngtcp2)",
  },
  turnserver: {
    command: 'turnserver',
    package: 'coturn',
    role: 'the TURN server of webrtc calls with turn',
  },
};
