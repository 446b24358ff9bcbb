/**
 * The lab's addressing plan, shared by the scenario compiler, the simulator and the
 * orchestrator. Every lab has its own pair of namespaces, so all labs can use the same
 * addresses without colliding. IPv4 comes from 198.18.0.0/15 (RFC 2544 benchmarking),
 * IPv6 from one ULA /48; the native core drops anything addressed elsewhere.
 */

export const LAB_PREFIXES = ['198.18.0.0/15', 'fd71:6c61:6200::/48'] as const;

export interface Endpoint {
  v4: string;
  v6: string;
}

/** The client namespace's address (198.18.0.0/16 is the client half). */
export const CLIENT: Endpoint = { v4: '198.18.0.1', v6: 'fd71:6c61:6200:1::1' };

/** The server namespace's main address (198.19.0.0/16 is the server half). */
export const SERVER: Endpoint = { v4: '198.19.0.1', v6: 'fd71:6c61:6200:2::1' };

/** Names every lab resolves in both namespaces. */
export const CLIENT_NAMES = ['client.lab', 'client'];
export const SERVER_NAMES = ['server.lab', 'server'];
