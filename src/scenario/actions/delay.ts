/** delay: every packet waits a fixed time, plus jitter drawn from a distribution. */
import { z } from 'zod';
import { Duration, Probability } from '../fields.js';
import { defineAction, direction, type CompiledActionBase } from './action.js';

export interface DelayAction extends CompiledActionBase {
  type: 'delay';
  time_ns: number;
  /** Default 0. */
  jitter_ns: number;
  /** Jitter distribution; default uniform. */
  distribution: 'uniform' | 'normal' | 'pareto' | 'paretonormal';
  /** Correlation of successive jitter values 0..=1; default 0. */
  correlation: number;
  /** Whether jitter may reorder packets; default false (packets keep their order). */
  reorder: boolean;
}

export const delay = defineAction({
  params: z.strictObject({
    time: Duration,
    jitter: Duration.optional(),
    distribution: z.enum(['uniform', 'normal', 'pareto', 'paretonormal']).optional(),
    correlation: Probability.optional(),
    reorder: z.boolean().optional(),
    ...direction,
  }),
  examples: [
    { time: '20ms', jitter: '5ms', distribution: 'normal', correlation: '25%', direction: 'down' },
  ],
  compile: (p, ctx): DelayAction => ({
    type: 'delay',
    direction: ctx.direction,
    time_ns: p.time,
    jitter_ns: p.jitter ?? 0,
    distribution: p.distribution ?? 'uniform',
    correlation: p.correlation ?? 0,
    reorder: p.reorder ?? false,
  }),
});
