/** drop-after: per flow, pass the first bytes or packets (or for a time), drop the rest. */
import { z } from 'zod';
import { Duration, int, Size } from '../fields.js';
import { defineAction, direction, type CompiledActionBase } from './action.js';

/** The first limit reached wins. */
export interface DropAfterAction extends CompiledActionBase {
  type: 'drop-after';
  /** Bytes of IP payload counted over the packets this action sees (both directions summed when `direction` is both); null: not limited by bytes. */
  bytes: number | null;
  /** Packets counted like `bytes`; null: not limited by packets. */
  packets: number | null;
  /** Time since the flow's first packet; null: not limited by time. */
  time_ns: number | null;
}

const params = z
  .strictObject({
    bytes: Size.optional(),
    packets: int(0).optional(),
    time: Duration.optional(),
    ...direction,
  })
  .superRefine((d, ctx) => {
    if (d.bytes === undefined && d.packets === undefined && d.time === undefined) {
      ctx.addIssue({
        code: 'custom',
        params: { fallback: true },
        message: 'missing; expected bytes, packets or time',
      });
    }
    if (d.bytes !== undefined && d.packets !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['packets'],
        message: 'give bytes or packets, not both',
      });
    }
  });

export const dropAfter = defineAction({
  params,
  examples: [
    { bytes: '16KB', time: '30s' },
    { packets: 10, direction: 'up' },
  ],
  compile: (p, ctx): DropAfterAction => ({
    type: 'drop-after',
    direction: ctx.direction,
    bytes: p.bytes ?? null,
    packets: p.packets ?? null,
    time_ns: p.time ?? null,
  }),
});
