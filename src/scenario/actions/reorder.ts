/** reorder: a packet is sent ahead of the queued ones with a probability (netem `reorder`). */
import { z } from 'zod';
import { int, Probability } from '../fields.js';
import { defineAction, direction, type CompiledActionBase } from './action.js';

export interface ReorderAction extends CompiledActionBase {
  type: 'reorder';
  /** Probability a packet is sent ahead of the queued ones. */
  rate: number;
  /** Reorder at most every `gap`-th packet (netem `gap`); default 1 (any packet). */
  gap: number;
}

export const reorder = defineAction({
  params: z.strictObject({ rate: Probability, gap: int(1).optional(), ...direction }),
  examples: [{ rate: '5%', gap: 3 }],
  compile: (p, ctx): ReorderAction => ({
    type: 'reorder',
    direction: ctx.direction,
    rate: p.rate,
    gap: p.gap ?? 1,
  }),
});
