/**
 * command: bring your own app. A server program runs in the server namespace on the
 * workload's host (its addresses, its names in every hosts file, its lab certificate) and
 * a client program in the client namespace, started and stopped by the timeline like
 * other workloads. qoslab sends no messages of its own: what it measures is the flows
 * the programs open, as the core meters them (flows.* expectations), attributed to the
 * workload by their endpoints: the host's addresses on `port` and `ports`.
 *
 * Programs are given as an argument list or a string split on spaces (quotes group, no
 * shell: `[sh, -c, '...']` when one is wanted); `$QOSLAB_…` variables in the arguments
 * are replaced by their values (the lab's addresses, the run's CA bundle, the host's
 * certificate and key). Running them needs `--allow-commands` (docs/security.md).
 * Orchestrated by src/run/commands.ts, not by the workload agents.
 */
import { z } from 'zod';
import { describeFound, mergePortRanges } from '../units.js';
import { Duration, missingOr, oneOrMany, PortRange } from '../fields.js';
import { BARE_WIRE, defineProtocol, type ProtocolProblem } from './protocol.js';

/** The workload key naming its programs (located errors point at it). */
export const PROGRAMS_KEY = 'command';

/** The readiness wait of a server when the workload gives none. */
export const DEFAULT_READY_TIMEOUT_NS = 10e9;

const Program = z.union(
  [
    z.string().trim().min(1),
    z.array(z.string({ error: (iss) => missingOr('an argument')(iss.input) })).min(1),
  ],
  { error: (iss) => missingOr('a command line or a list of arguments')(iss.input) },
);

const Ready = z.union(
  [
    z.strictObject({ port: z.int().min(1).max(65535) }),
    z.strictObject({
      line: z.string().refine(
        (s) => {
          try {
            new RegExp(s);
            return true;
          } catch {
            return false;
          }
        },
        { error: (iss) => `expected a regular expression, found ${describeFound(iss.input)}` },
      ),
    }),
  ],
  { error: () => "expected { port: N } or { line: 'regular expression' }" },
);

const Command = z
  .strictObject({
    server: Program.optional().meta({
      description:
        "the server program, run in the server namespace on the workload's host until the run ends",
    }),
    client: Program.optional().meta({
      description:
        'the client program, run in the client namespace from the workload start to its stop',
    }),
    ready: Ready.optional().meta({
      description:
        "when the server is ready: a socket listening on this port (default: the workload's port) or a line of its output matching this expression",
    }),
    'ready-timeout': Duration.optional().meta({
      description: 'how long to wait for the server to be ready (default 10s)',
    }),
    ports: oneOrMany(PortRange, 'a port').optional().meta({
      description:
        "more ports of the host whose flows are this workload's (TCP and UDP), besides its port",
    }),
  })
  .meta({ description: 'command: the programs to run (needs --allow-commands)' });

/** Split a command line on spaces; single or double quotes group, no other shell syntax. */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const ch of line) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word ??= '';
    } else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The compiled `command` of a workload. */
export interface CompiledCommand {
  server: string[] | null;
  client: string[] | null;
  /** A port to listen on, or an expression a line of the server's output matches. */
  ready_port: number | null;
  ready_line: string | null;
  ready_timeout_ns: number;
  /** More port ranges of the host attributed to the workload (TCP and UDP). */
  ports: [number, number][];
}

const argv = (p: string | string[] | undefined) =>
  p === undefined ? null : typeof p === 'string' ? splitCommandLine(p) : p;

/** Keys of the common workload that a command does not take (it sends no messages). */
const MESSAGE_KEYS = ['every', 'rate', 'size', 'deadline', 'direction', 'connections', 'tls'];

export const command = defineProtocol({
  // Never used: `check` insists on a port.
  port: 1,
  tls: false,
  agent: 'orchestrator',
  // Its programs' traffic is theirs: no message is stamped, paced or counted by qoslab, so
  // these traits only say what the summary may ask (nothing but its flows); simulate's
  // twin leaves it out (`ownPrograms`).
  transport: 'tcp',
  traffic: 'messages',
  measures: 'messages',
  down: 'agent',
  // Its programs open connections: tls.p50 comes from their flows (metrics/expect.ts).
  connects: true,
  // test/e2e/protocols.test.ts runs no command (that needs --allow-commands); commands.test.ts does.
  loopback: { command: { client: ['true'] } },
  ports: [
    { transport: 'tcp', service: 'own' },
    { transport: 'udp', service: 'own' },
  ],
  options: { command: Command.optional() },
  example: { command: { server: 'my-server --port 20009', client: ['my-client', 'server.lab'] } },
  compiledKeys: ['command'],
  wire: () => ({
    ...BARE_WIRE,
    stackNs: 0,
    unmodelled: "its programs' own traffic: the twin sends nothing for it",
    ownPrograms: true,
  }),
  defaults: () => ({}),
  compile: (o): { command: CompiledCommand | null } => {
    const c = o.command;
    if (c === undefined) return { command: null };
    const written = c.ports ?? [];
    // One range reads as a pair of numbers, several as a list of pairs.
    const ports = mergePortRanges(
      written.length > 0 && typeof written[0] === 'number'
        ? [written as [number, number]]
        : (written as [number, number][]),
    );
    return {
      command: {
        server: argv(c.server),
        client: argv(c.client),
        ready_port: c.ready !== undefined && 'port' in c.ready ? c.ready.port : null,
        ready_line: c.ready !== undefined && 'line' in c.ready ? c.ready.line : null,
        ready_timeout_ns: c['ready-timeout'] ?? DEFAULT_READY_TIMEOUT_NS,
        ports,
      },
    };
  },
  flowEndpoints: (w) => {
    const c = w.command as CompiledCommand | null;
    const addresses = [w.address, ...(w.address6 === null ? [] : [w.address6])];
    return (c?.ports ?? []).flatMap((range) =>
      addresses.flatMap((address) =>
        (['tcp', 'udp'] as const).map((transport) => ({ address, transport, port: range })),
      ),
    );
  },
  check: (w) => {
    const written = w as Record<string, unknown>;
    const problems: ProtocolProblem[] = [];
    if (w.command === undefined) {
      problems.push({ key: 'command', message: 'missing; expected { server, client, ... }' });
    } else if (w.command.server === undefined && w.command.client === undefined) {
      problems.push({ key: 'command', message: 'give a server program, a client program or both' });
    }
    if (written.port === undefined) {
      problems.push({
        key: 'port',
        message: "missing; a command workload names its server's port (readiness, flows)",
      });
    }
    for (const key of MESSAGE_KEYS) {
      if (written[key] !== undefined) {
        problems.push({
          key,
          message: `a command workload sends no messages of its own: '${key}' does not apply`,
        });
      }
    }
    return problems;
  },
});
