/**
 * How a connection-oriented workload lives through a bad network, as messaging apps do:
 * an application keepalive that notices a frozen connection, reconnects with backoff, a
 * login after each connect, an outbox that resends what the server has not acknowledged
 * (and may give up), and a chain of transports to fall back to. The scenario keys, their
 * defaults with where each comes from, and their compiled form live here, in one place;
 * the agents' side is src/workloads/supervisor.ts (messages) and webrtc.ts (calls).
 */
import { z } from 'zod';
import type {
  CompiledKeepalive,
  CompiledLogin,
  CompiledOutbox,
  CompiledReconnect,
  CompiledTransport,
} from './compiled.js';
import { Duration, int, Name, PositiveDuration, Probability, Size } from './fields.js';
import {
  H2_FALLBACK,
  PROTOCOL_NAMES,
  PROTOCOLS,
  protocolsWhere,
  sessionKind,
  type ProtocolName,
} from './protocols/index.js';
import type { ProtocolProblem, SessionKind } from './protocols/protocol.js';
import { TURN_TRANSPORTS, turnPort, type TurnTransport } from './protocols/webrtc.js';

// ---- the keys -------------------------------------------------------------------------

export const Keepalive = z
  .union(
    [
      z.literal(false),
      z.strictObject({
        interval: PositiveDuration.optional().meta({ description: 'how often a ping is sent' }),
        timeout: PositiveDuration.optional().meta({
          description: 'a ping unanswered this long has failed',
        }),
        'fail-after': Duration.optional().meta({
          description:
            'the connection is given up at a failed ping when nothing has arrived for this long (0: at the first failed ping)',
        }),
      }),
    ],
    { error: () => 'expected false or a map like { interval: 20s, timeout: 10s }' },
  )
  .meta({
    description: 'application keepalive: pings that detect a frozen connection; false: none',
  });

export const Reconnect = z
  .strictObject({
    first: Duration.optional().meta({
      description: 'wait before the first attempt after a connection is lost (default: initial)',
    }),
    initial: Duration.optional().meta({ description: 'wait after the first failed attempt' }),
    factor: z.number().min(1).max(10).optional().meta({
      description: 'each further wait is this many times the one before (1: no growth)',
    }),
    step: Duration.optional().meta({
      description: 'added to each further wait (linear growth, as whatsmeow does)',
    }),
    cap: PositiveDuration.optional().meta({ description: 'no wait is longer than this' }),
    jitter: Probability.optional().meta({
      description:
        'up to this share of each wait is random (from the scenario seed): 50% waits between half and all of it',
    }),
  })
  .meta({ description: 'how long the client waits between connection attempts' });

export const Login = z
  .union(
    [
      z.literal(false),
      z.strictObject({
        'round-trips': int(1, 20).optional().meta({
          description: 'round trips of the login after each connect',
        }),
        bytes: Size.optional().meta({
          description: 'bytes of the login each way, spread over its round trips',
        }),
      }),
    ],
    { error: () => "expected false or a map like { round-trips: 2, bytes: '1KB' }" },
  )
  .meta({ description: 'a login after each connect before messages flow; false: none' });

export const Outbox = z
  .union(
    [
      z.literal(false),
      z.strictObject({
        timeout: PositiveDuration.optional().meta({
          description:
            'a message unacknowledged this long means the connection is dead: reconnect and resend',
        }),
        retries: int(0, 1000).optional().meta({
          description: 'resends of one message before the app gives up on it (default: no limit)',
        }),
        'give-up': PositiveDuration.optional().meta({
          description:
            'a message not acknowledged this long after it was written failed for the user (default: never)',
        }),
      }),
    ],
    { error: () => 'expected false or a map like { timeout: 20s, give-up: 5m }' },
  )
  .meta({
    description:
      'messages are kept until acknowledged and resent on reconnect; false: sent once, as a plain socket would',
  });

const FallbackStep = z
  .strictObject({
    protocol: z.enum(PROTOCOL_NAMES).optional().meta({
      description: 'messages: the protocol of this transport (default: the workload’s)',
    }),
    port: int(1, 65535).optional(),
    tls: z.boolean().optional(),
    turn: z
      .union([Name, z.literal(false)])
      .optional()
      .meta({
        description: 'calls: the host whose TURN server relays this attempt; false: direct',
      }),
    turn_transport: z.enum(TURN_TRANSPORTS).optional(),
    turn_port: int(1, 65535).optional(),
    after: PositiveDuration.optional().meta({
      description:
        'the transport before this one is given up after this long without connecting (calls: without media)',
    }),
  })
  .meta({ description: 'one transport of a fallback chain' });

export const Fallback = z.union([z.literal('h2'), z.array(FallbackStep).min(1)], {
  error: () =>
    "expected a list of transports like [{ port: 5222, after: 10s }] (http3 also takes 'h2')",
});

/** The keys a workload takes for its session, spread into the workload schema. */
export const SESSION_KEYS = {
  keepalive: Keepalive.optional(),
  reconnect: Reconnect.optional(),
  login: Login.optional(),
  outbox: Outbox.optional(),
  fallback: Fallback.optional().meta({
    description:
      "transports tried in order after the workload's own when it cannot connect; http3 also takes 'h2'",
  }),
};

type Written = {
  protocol: ProtocolName;
  port?: number | undefined;
  tls?: boolean | undefined;
  keepalive?: z.output<typeof Keepalive> | undefined;
  reconnect?: z.output<typeof Reconnect> | undefined;
  login?: z.output<typeof Login> | undefined;
  outbox?: z.output<typeof Outbox> | undefined;
  fallback?: z.output<typeof Fallback> | undefined;
  turn?: string | undefined;
  turn_transport?: TurnTransport | undefined;
  turn_port?: number | undefined;
  [key: string]: unknown;
};

// ---- defaults and where they come from -----------------------------------------------

/**
 * What a workload without an `app` profile gets. Each value names its source or says
 * it is assumed (docs/scenario-format.md repeats this table).
 */
export const SESSION_DEFAULTS = {
  // python-websockets pings every 20 s and closes when the pong has not come in 20 s
  // (its "Keepalive and latency" docs); a first failed ping ends the connection.
  keepalive: { interval_ns: 20e9, timeout_ns: 20e9, fail_after_ns: 0 },
  // Assumed: what qoslab did before there were knobs (250 ms, 500 ms, doubling to 8 s, half random).
  reconnect: {
    first_ns: 250e6,
    initial_ns: 500e6,
    factor: 2,
    step_ns: 0,
    cap_ns: 8e9,
    jitter: 0.5,
  },
  // Assumed: a plain socket has no login of its own.
  login: null,
  // Assumed: 20 s without an acknowledgement means a dead connection (as long as the
  // keepalive's timeout); messages wait as long as it takes, as WhatsApp's clock icon does.
  outbox: { timeout_ns: 20e9, retries: null, give_up_ns: null },
  // Assumed: a transport that has not connected in 10 s gives way to the next.
  fallbackAfterNs: 10e9,
  // http3's `fallback: h2`: Chromium races TCP after 300 ms; qoslab gives QUIC 3 s.
  h2AfterNs: 3e9,
} as const;

// ---- checks -----------------------------------------------------------------------------

const MESSAGE_ONLY = ['keepalive', 'login', 'outbox'] as const;
const SESSION_ANY = ['reconnect', 'fallback'] as const;
const STEP_KEYS: Record<SessionKind, readonly string[]> = {
  messages: ['protocol', 'port', 'tls', 'after'],
  call: ['turn', 'turn_transport', 'turn_port', 'after'],
};

/** The session keys a workload writes that its protocol does not take, and bad steps. */
export function sessionProblems(w: Written): ProtocolProblem[] {
  const kind = sessionKind(w.protocol, w);
  const problems: ProtocolProblem[] = [];
  const kept = (k?: SessionKind) =>
    protocolsWhere((p) =>
      k === undefined ? sessionKind(p, {}) !== undefined : sessionKind(p, {}) === k,
    );
  // A row whose session depends on its keys has none with these (http3's client ngtcp2).
  const how = kind === undefined && typeof PROTOCOLS[w.protocol].session === 'function';
  const not = `not ${w.protocol}${how ? ' as written here (its client keeps no connection)' : ''}`;
  for (const key of [...MESSAGE_ONLY, ...SESSION_ANY]) {
    if (w[key] === undefined) continue;
    const any = key === 'reconnect' || key === 'fallback';
    if (any ? kind !== undefined : kind === 'messages') continue;
    const which = any
      ? `connection-oriented workloads (${kept().join(', ')})`
      : `message workloads over a connection (${kept('messages').join(', ')})`;
    problems.push({ key, message: `'${key}' applies only to ${which}, ${not}` });
  }
  // The shorthand of a QUIC workload: the same port over TCP with HTTP/2, as browsers do.
  if (w.fallback === 'h2' && PROTOCOLS[w.protocol].transport !== 'quic') {
    problems.push({
      key: 'fallback',
      message: `fallback 'h2' applies only to QUIC workloads; give a list of transports`,
    });
  }
  if (Array.isArray(w.fallback) && kind !== undefined) {
    w.fallback.forEach((step, i) => {
      for (const key of Object.keys(step)) {
        if (!STEP_KEYS[kind].includes(key)) {
          problems.push({
            key: `fallback.${i}.${key}`,
            message: `'${key}' is not a key of a ${kind === 'call' ? 'call' : 'message'} transport (it takes ${STEP_KEYS[kind].join(', ')})`,
          });
        }
      }
      if (step.protocol !== undefined && sessionKind(step.protocol, {}) !== 'messages') {
        problems.push({
          key: `fallback.${i}.protocol`,
          message: `a message workload falls back to websocket, http2, http3, longpoll, mqtt or tcp-framed, not ${step.protocol}`,
        });
      }
      if (
        step.tls === true &&
        step.protocol !== undefined &&
        PROTOCOLS[step.protocol].tls === 'never'
      ) {
        problems.push({ key: `fallback.${i}.tls`, message: `${step.protocol} has no TLS` });
      }
      if (step.turn === undefined || step.turn === false) {
        for (const key of ['turn_transport', 'turn_port'] as const) {
          if (step[key] !== undefined) {
            problems.push({ key: `fallback.${i}.${key}`, message: `${key} needs turn: <host>` });
          }
        }
      }
    });
  }
  return problems;
}

// ---- compiled form ----------------------------------------------------------------------

/** The session settings a workload's agents read; all null for protocols without one. */
export interface CompiledSession {
  keepalive: CompiledKeepalive | null;
  reconnect: CompiledReconnect | null;
  login: CompiledLogin | null;
  outbox: CompiledOutbox | null;
  /** The workload's own transport first, then its fallbacks; empty without a session. */
  transports: CompiledTransport[];
}

/** What a profile or the defaults fill in before the workload's own keys (src/scenario/apps). */
export interface SessionBase {
  keepalive: CompiledKeepalive | null;
  reconnect: CompiledReconnect;
  login: CompiledLogin | null;
  outbox: CompiledOutbox | null;
}

export const DEFAULT_BASE: SessionBase = {
  keepalive: SESSION_DEFAULTS.keepalive,
  reconnect: SESSION_DEFAULTS.reconnect,
  login: SESSION_DEFAULTS.login,
  outbox: SESSION_DEFAULTS.outbox,
};

/** A transport's name in events and tables: `tcp-framed:5222`, `http3:443`, `direct`, `turn-tcp:443`. */
export function transportLabel(t: Omit<CompiledTransport, 'label'>): string {
  if (sessionKind(t.protocol, {}) === 'call') {
    return t.turn === null ? 'direct' : `turn-${t.turn_transport}:${t.turn_port}`;
  }
  return `${t.protocol}:${t.port}`;
}

export function compileSession(
  w: Written,
  own: { port: number; tls: boolean },
  base: SessionBase = DEFAULT_BASE,
): CompiledSession {
  const kind = sessionKind(w.protocol, w);
  if (kind === undefined) {
    return { keepalive: null, reconnect: null, login: null, outbox: null, transports: [] };
  }
  const r = w.reconnect;
  const reconnect: CompiledReconnect = {
    first_ns: r?.first ?? r?.initial ?? base.reconnect.first_ns,
    initial_ns: r?.initial ?? base.reconnect.initial_ns,
    factor: r?.factor ?? base.reconnect.factor,
    step_ns: r?.step ?? base.reconnect.step_ns,
    cap_ns: r?.cap ?? base.reconnect.cap_ns,
    jitter: r?.jitter ?? base.reconnect.jitter,
  };
  const transports = compileTransports(w, own, kind);
  if (kind === 'call') return { keepalive: null, reconnect, login: null, outbox: null, transports };
  const k = w.keepalive;
  const keepBase = base.keepalive ?? SESSION_DEFAULTS.keepalive;
  const keepalive: CompiledKeepalive | null =
    k === false || (k === undefined && base.keepalive === null)
      ? null
      : {
          interval_ns: k?.interval ?? keepBase.interval_ns,
          timeout_ns: k?.timeout ?? keepBase.timeout_ns,
          fail_after_ns: k?.['fail-after'] ?? keepBase.fail_after_ns,
        };
  const l = w.login;
  const loginBase = base.login ?? { round_trips: 1, bytes: 0 };
  const login: CompiledLogin | null =
    l === false || (l === undefined && base.login === null)
      ? null
      : {
          round_trips: l?.['round-trips'] ?? loginBase.round_trips,
          bytes: l?.bytes ?? loginBase.bytes,
        };
  const o = w.outbox;
  const outBase = base.outbox ?? SESSION_DEFAULTS.outbox;
  const outbox: CompiledOutbox | null =
    o === false || (o === undefined && base.outbox === null)
      ? null
      : {
          timeout_ns: o?.timeout ?? outBase.timeout_ns,
          retries: o?.retries ?? outBase.retries,
          give_up_ns: o?.['give-up'] ?? outBase.give_up_ns,
        };
  return { keepalive, reconnect, login, outbox, transports };
}

function compileTransports(
  w: Written,
  own: { port: number; tls: boolean },
  kind: SessionKind,
): CompiledTransport[] {
  const first = transport(
    {
      protocol: w.protocol,
      port: own.port,
      tls: own.tls,
      turn: w.turn ?? null,
      turn_transport: w.turn === undefined ? null : (w.turn_transport ?? 'udp'),
      turn_port: w.turn === undefined ? null : (w.turn_port ?? turnPort(w.turn_transport ?? 'udp')),
    },
    null,
  );
  const steps =
    w.fallback === 'h2'
      ? [{ protocol: H2_FALLBACK, after: SESSION_DEFAULTS.h2AfterNs }]
      : (w.fallback ?? []);
  return [
    first,
    ...steps.map((s) => {
      if (kind === 'call') {
        const turn = s.turn === undefined || s.turn === false ? null : s.turn;
        const via = turn === null ? null : (s.turn_transport ?? 'udp');
        return transport(
          {
            protocol: w.protocol,
            port: own.port,
            tls: own.tls,
            turn,
            turn_transport: via,
            turn_port: via === null ? null : (s.turn_port ?? turnPort(via)),
          },
          s.after ?? SESSION_DEFAULTS.fallbackAfterNs,
        );
      }
      const protocol = s.protocol ?? w.protocol;
      const tls = s.tls ?? (s.protocol === undefined ? own.tls : PROTOCOLS[protocol].tls === true);
      return transport(
        {
          protocol,
          port: s.port ?? (s.protocol === undefined ? own.port : PROTOCOLS[protocol].port),
          tls,
          turn: null,
          turn_transport: null,
          turn_port: null,
        },
        s.after ?? SESSION_DEFAULTS.fallbackAfterNs,
      );
    }),
  ];
}

function transport(
  t: Pick<CompiledTransport, 'protocol' | 'port' | 'tls' | 'turn' | 'turn_transport' | 'turn_port'>,
  afterNs: number | null,
): CompiledTransport {
  const full = {
    protocol: t.protocol,
    port: t.port,
    tls: t.tls,
    after_ns: afterNs,
    turn: t.turn,
    turn_transport: t.turn_transport,
    turn_port: t.turn_port,
    // Filled in from the hosts by the compiler (compile.ts), as for the workload's own turn.
    turn_address: null,
    turn_server_name: null,
  };
  return { label: transportLabel(full), ...full };
}
