/** trigger: the following actions start after a delay, for a fraction of flows. */
import { z } from 'zod';
import { Duration, Probability } from '../fields.js';
import { defineAction, direction, type CompiledActionBase } from './action.js';

/** Always the first action if present: the following actions start after `delay_ns`, for a `probability` fraction of flows. */
export interface TriggerAction extends CompiledActionBase {
  type: 'trigger';
  /** Default 0. */
  delay_ns: number;
  /** Default 1. Decided once per flow from the seeded RNG. */
  probability: number;
}

export const trigger = defineAction({
  params: z.strictObject({
    delay: Duration.optional(),
    probability: Probability.optional(),
    ...direction,
  }),
  examples: [{ delay: '2s', probability: '80%' }],
  compile: (p, ctx): TriggerAction => ({
    type: 'trigger',
    direction: ctx.direction,
    delay_ns: p.delay ?? 0,
    probability: p.probability ?? 1,
  }),
});
