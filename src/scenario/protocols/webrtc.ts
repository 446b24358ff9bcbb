/**
 * webrtc: an Opus audio call (optionally with VP8 video) between two real WebRTC stacks,
 * headless Chromium in each namespace. Signalling is HTTPS on the host's port (shared
 * with its other HTTP workloads, as messengers signal over their own TLS connection);
 * media goes over ICE/DTLS-SRTP on UDP between host candidates. Metrics come from the
 * stacks' getStats(). With `turn: <host>` the run starts coturn on that host's address
 * (port `turn_port`, default 3478, 5349 for TLS) and the caller relays its media through
 * it (src/workloads/coturn.ts), reaching it over `turn_transport`: UDP, or TCP or TLS as
 * messengers fall back to when UDP calls are blocked. Agent: src/workloads/webrtc.ts.
 */
import { z } from 'zod';
import { Name } from '../fields.js';
import { BARE_WIRE, defineProtocol, type ReferenceView, type References } from './protocol.js';

/** The IANA STUN/TURN port, coturn's default. */
export const TURN_PORT = 3478;
/** The IANA TURN-over-TLS port (`turns:`), coturn's default TLS port. */
export const TURNS_PORT = 5349;

/**
 * How the caller reaches its TURN server. One transport, not a list: which way the
 * relayed media went is then the scenario's choice, not ICE's priorities, so a run's
 * path (`proto` of its connects) is known before it runs.
 */
export const TURN_TRANSPORTS = ['udp', 'tcp', 'tls'] as const;
export type TurnTransport = (typeof TURN_TRANSPORTS)[number];

/** The TURN server's default port for a transport. */
export function turnPort(transport: TurnTransport): number {
  return transport === 'tls' ? TURNS_PORT : TURN_PORT;
}

export const webrtc = defineProtocol({
  port: 443,
  tls: true,
  agent: true,
  session: 'call',
  transport: 'udp',
  traffic: 'rtp',
  measures: 'webrtc-stats',
  down: 'agent',
  connects: true,
  loopback: {},
  // The signalling endpoint; the media ports are the stacks' own (ephemeral, as in real calls).
  ports: [{ transport: 'tcp', service: 'http', tls: true }],
  options: {
    video: z
      .boolean()
      .optional()
      .meta({ description: 'webrtc: send a camera-like video track (VP8) besides the audio' }),
    turn: Name.optional().meta({
      description:
        'webrtc: a host whose address runs a TURN/STUN server (coturn) for this call; the caller relays its media through it',
    }),
    turn_port: z.number().int().min(1).max(65535).optional().meta({
      description: "webrtc: the TURN server's port (default 3478; 5349 with turn_transport tls)",
    }),
    turn_transport: z.enum(TURN_TRANSPORTS).optional().meta({
      description:
        "webrtc: how the caller reaches its TURN server: udp (default), tcp, or tls (turns:, with the TURN host's certificate)",
    }),
  },
  // turn_address and turn_server_name are filled in by the compiler from the hosts (compile.ts).
  compiledKeys: [
    'video',
    'turn',
    'turn_port',
    'turn_transport',
    'turn_address',
    'turn_server_name',
  ],
  // ICE media from the caller to the host's addresses on ports the stacks choose; relayed
  // calls also go to the TURN server on its transport (TLS runs over TCP).
  flowEndpoints: (w) => [
    ...[w.address, ...(w.address6 === null ? [] : [w.address6])].map((address) => ({
      address,
      transport: 'udp' as const,
      port: null,
    })),
    ...(typeof w.turn_address !== 'string' || typeof w.turn_port !== 'number'
      ? []
      : [
          {
            address: w.turn_address,
            transport: w.turn_transport === 'udp' ? ('udp' as const) : ('tcp' as const),
            port: w.turn_port,
          },
        ]),
  ],
  // Media is the stack's own (no messages to pace or judge): the deadline only sets how long
  // a run waits after its end, and a voice packet a second late is of no use anyway.
  defaults: () => ({ interval_ns: 20e6, deadline_ns: 1e9 }),
  chromium: () => 'media',
  // A call's TURN servers (its own and its fallback chain's) hold ports of their hosts: UDP
  // as udp-voice does, or TCP (plain or TLS) as a workload that owns its connections does.
  references: (w, view): References => {
    const steps = Array.isArray(w.fallback) ? w.fallback : [];
    const relays: [Record<string, unknown>, string][] = [
      [w, ''],
      ...steps.flatMap((s, i): [Record<string, unknown>, string][] =>
        s !== null && typeof s === 'object'
          ? [[s as Record<string, unknown>, `fallback.${i}.`]]
          : [],
      ),
    ];
    const out: References = { problems: [], claims: [] };
    for (const [r, at] of relays) {
      const one = relayReferences(r, view);
      out.problems.push(...one.problems.map((p) => ({ ...p, key: `${at}${p.key}` })));
      out.claims.push(...one.claims);
    }
    return out;
  },
  compile: (
    o,
  ): {
    video: boolean;
    turn: string | null;
    turn_port: number | null;
    turn_transport: TurnTransport | null;
    turn_address: string | null;
    turn_server_name: string | null;
  } => {
    const transport = o.turn === undefined ? null : (o.turn_transport ?? 'udp');
    return {
      video: o.video ?? false,
      turn: o.turn ?? null,
      turn_port: transport === null ? null : (o.turn_port ?? turnPort(transport)),
      turn_transport: transport,
      turn_address: null,
      turn_server_name: null,
    };
  },
  programs: (c) => (c.turn === null ? ['chromium'] : ['chromium', 'turnserver']),
  // RTP is the twin's own model of a call (Opus at a steady 32 kbit/s); with TURN the
  // client's media goes through its relay, over UDP, TCP or TLS.
  wire: (c) => ({
    ...BARE_WIRE,
    relay:
      c.turn_transport === null
        ? null
        : {
            address: c.turn_address ?? '',
            port: c.turn_port ?? TURN_PORT,
            transport: c.turn_transport,
            tls_sni: c.turn_transport === 'tls' ? c.turn_server_name : null,
          },
    // No per-packet latency is measured for calls (getStats has none).
    stackNs: 0,
    unmodelled: 'signalling, video, bitrate adaptation, NetEq (steady Opus, 60 ms buffer)',
  }),
});

/** The references of one relay of a call: its own `turn` keys or a fallback step's. */
function relayReferences(w: Record<string, unknown>, view: ReferenceView): References {
  if (typeof w.turn !== 'string') {
    const problems = ['turn_port', 'turn_transport'].flatMap((key) =>
      w[key] === undefined ? [] : [{ key, message: `${key} needs turn: <host>` }],
    );
    return { problems, claims: [] };
  }
  if (!view.hostNames.includes(w.turn)) {
    return { problems: [{ key: 'turn', message: view.unknownHost(w.turn) }], claims: [] };
  }
  const transport = TURN_TRANSPORTS.find((t) => t === w.turn_transport) ?? 'udp';
  const problems =
    transport === 'tls' && view.dnsNames(w.turn).length === 0
      ? [
          {
            key: 'turn_transport',
            message: `turn_transport tls needs a DNS name of host '${w.turn}' (its certificate and the turns: URL name it); give it names`,
          },
        ]
      : [];
  const port = typeof w.turn_port === 'number' ? w.turn_port : turnPort(transport);
  const claim = {
    transport: transport === 'udp' ? ('udp' as const) : ('tcp' as const),
    port,
    tls: transport === 'tls',
    service: 'turn',
  };
  return { problems, claims: [{ host: w.turn, claims: [claim] }] };
}
