/**
 * How fast a workload may ask its agent to send. An agent is one Node event loop that
 * stamps, sends and records every message; past a rate it cannot keep up, and the run
 * then says `agent-limited` (src/metrics/pacing.ts) rather than judging the network.
 * A plan far beyond that is a mistake in the file (`every: 1ns` asks a billion messages a
 * second), refused at `validate`, located. The measured rates are in
 * docs/scenario-format.md ("Limits").
 */
import { COMMON_DEFAULTS, type ProtocolProblem } from './protocols/protocol.js';
import { PROTOCOLS, type ProtocolName } from './protocols/index.js';

/**
 * Messages a second one workload may plan per direction (all its connections together):
 * ten times what one agent sent of a single paced workload on the 2-core development
 * machine (about 10,000 a second; MEASURED_PER_S).
 */
export const MAX_MESSAGES_PER_S = 100_000;

/** What one agent kept up with, alone, on the development machine (messages a second). */
export const MEASURED_PER_S = 10_000;

/** A workload as the schema parsed it: durations in ns, sizes in bytes, rates in bit/s. */
export interface PacedWorkload {
  protocol: ProtocolName;
  every?: number;
  rate?: number;
  size?: number;
  frame?: number;
  connections?: number;
}

/** The key that sets the interval and the interval in ns, or undefined (the default). */
function interval(w: PacedWorkload): { key: string; ns: number } | undefined {
  // A call's frames come every `frame` (its `every` is not used).
  if (PROTOCOLS[w.protocol].traffic === 'frames') {
    return w.frame === undefined ? undefined : { key: 'frame', ns: w.frame };
  }
  if (w.every !== undefined) return { key: 'every', ns: w.every };
  if (w.rate === undefined || w.rate <= 0) return undefined;
  const defaults = (PROTOCOLS[w.protocol].defaults as (o: object) => { size_bytes?: number })(w);
  const size = w.size ?? defaults.size_bytes ?? COMMON_DEFAULTS.size_bytes;
  return { key: 'rate', ns: (size * 8 * 1e9) / w.rate };
}

export function paceProblems(w: PacedWorkload): ProtocolProblem[] {
  // Objects back to back and a media stack's own packets are not paced by an agent.
  const traffic = PROTOCOLS[w.protocol].traffic;
  if (traffic !== 'messages' && traffic !== 'frames') return [];
  const i = interval(w);
  if (i === undefined || i.ns <= 0) return [];
  const perS = ((w.connections ?? 1) * 1e9) / i.ns;
  if (perS <= MAX_MESSAGES_PER_S) return [];
  const plan =
    perS >= 1e6 ? `${(perS / 1e6).toPrecision(3)} million` : Math.round(perS).toLocaleString('en');
  return [
    {
      key: i.key,
      message: `asks ${plan} messages a second per direction of its agent; an agent sends about ${MEASURED_PER_S.toLocaleString('en')} a second, and qoslab refuses plans over ${MAX_MESSAGES_PER_S.toLocaleString('en')} (a longer interval, a larger size, or fewer connections)`,
    },
  ];
}
