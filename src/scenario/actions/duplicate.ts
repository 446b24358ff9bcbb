/** duplicate: a packet is sent twice with a probability. */
import { z } from 'zod';
import { Probability } from '../fields.js';
import { defineAction, direction, type CompiledActionBase } from './action.js';

export interface DuplicateAction extends CompiledActionBase {
  type: 'duplicate';
  /** Probability a packet is sent twice. */
  rate: number;
}

export const duplicate = defineAction({
  params: z.strictObject({ rate: Probability, ...direction }),
  examples: [{ rate: '1%' }],
  compile: (p, ctx): DuplicateAction => ({
    type: 'duplicate',
    direction: ctx.direction,
    rate: p.rate,
  }),
});
