/** reset: inject TCP RSTs (on match or after some bytes), then drop the flow. */
import { z } from 'zod';
import { Size } from '../fields.js';
import { defineAction, direction, type CompiledActionBase } from './action.js';

export interface ResetAction extends CompiledActionBase {
  type: 'reset';
  /** Bytes of the flow (in `direction`) let through before the reset; null: reset on match (the first packet). */
  after_bytes: number | null;
  /** Which end(s) get a RST; default both. */
  to: 'client' | 'server' | 'both';
}

export const reset = defineAction({
  params: z
    .strictObject({
      'after-bytes': Size.optional(),
      to: z.enum(['client', 'server', 'both']).optional(),
      ...direction,
    })
    .nullable(),
  examples: [null, { 'after-bytes': '1KB', to: 'client' }],
  compile: (p, ctx): ResetAction => ({
    type: 'reset',
    direction: ctx.direction,
    after_bytes: p?.['after-bytes'] ?? null,
    to: p?.to ?? 'both',
  }),
});
