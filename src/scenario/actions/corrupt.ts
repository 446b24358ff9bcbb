/** corrupt: a packet gets one random bit flipped with a probability. */
import { z } from 'zod';
import { Probability } from '../fields.js';
import { defineAction, direction, type CompiledActionBase } from './action.js';

export interface CorruptAction extends CompiledActionBase {
  type: 'corrupt';
  /** Probability a packet gets one random bit flipped. */
  rate: number;
}

export const corrupt = defineAction({
  params: z.strictObject({ rate: Probability, ...direction }),
  examples: [{ rate: '0.1%' }],
  compile: (p, ctx): CorruptAction => ({ type: 'corrupt', direction: ctx.direction, rate: p.rate }),
});
