/** rate: a shaper; packets over the rate wait in a queue (droptail or CoDel). */
import { z } from 'zod';
import { compiledQueue } from '../units.js';
import { Aqm, Queue, Rate } from '../fields.js';
import { defineAction, direction, type CompiledActionBase } from './action.js';

export interface RateAction extends CompiledActionBase {
  type: 'rate';
  rate_bps: number;
  /** Queue limit in bytes; null: in packets or unlimited. */
  queue_bytes: number | null;
  /** Queue limit in packets; null: in bytes or unlimited. */
  queue_packets: number | null;
  /** Default droptail. */
  aqm: 'droptail' | 'codel';
}

export const rate = defineAction({
  params: z.strictObject({
    rate: Rate,
    queue: Queue.optional(),
    aqm: Aqm.optional(),
    ...direction,
  }),
  examples: [
    { rate: '1mbit', queue: '50 packets', aqm: 'codel' },
    { rate: '256kbit', queue: '64KB' },
  ],
  compile: (p, ctx): RateAction => ({
    type: 'rate',
    direction: ctx.direction,
    rate_bps: p.rate,
    ...compiledQueue(p.queue),
    aqm: p.aqm ?? 'droptail',
  }),
});
