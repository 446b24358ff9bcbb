import type { CompiledWorkload } from '../scenario/compiled.js';

/** What an agent is told to do: written by the orchestrator as JSON, path in argv. */
export interface AgentConfig {
  role: 'server' | 'client';
  /** Every workload of the scenario; messages name workloads by their index here. */
  workloads: CompiledWorkload[];
  /** Scenario seed: backoff jitter and payload bytes derive from it. */
  seed: number;
  /** PEM of the run's lab CA, which clients trust (and nothing else). */
  caPem: string;
  /** Server certificates (PEM) by DNS name (the workloads' `server_name`). */
  certs: Record<string, { cert: string; key: string }>;
  /** Whether the lab has IPv6: servers then also bind their hosts' IPv6 addresses. */
  ipv6: boolean;
  /**
   * SHA-256 of the server certificates' public keys (base64), for clients that pin
   * instead of trusting a CA: Chromium accepts QUIC only from certificates it is told to
   * (--ignore-certificate-errors-spki-list), never from a locally added CA.
   */
  spki?: string[];
  /** QoS of MQTT publishes (default 1). */
  mqttQos?: 0 | 1;
  /** When each timeline phase begins, ns after t0: stacks sampled in intervals cut there. */
  phaseStartsNs?: number[];
  /** The lab's resolver: its address and names (the DoT and DoH SNI). */
  resolver?: { address: string; names: string[] };
  /** Names with an HTTPS record carrying an ECH configuration: Chromium looks them up. */
  echNames?: string[];
}
