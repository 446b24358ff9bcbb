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
  /** TSPU "SNI-I": the trigger passes, the server's reply is replaced by a RST to the client (only); default false. */
  replace_reply: boolean;
}

export const reset = defineAction({
  params: z
    .strictObject({
      'after-bytes': Size.optional(),
      to: z.enum(['client', 'server', 'both']).optional(),
      'replace-reply': z.boolean().optional(),
      ...direction,
    })
    .superRefine((p, ctx) => {
      if (p['replace-reply'] === true && p.to !== undefined && p.to !== 'client') {
        ctx.addIssue({
          code: 'custom',
          path: ['to'],
          message: 'replace-reply resets the client only: leave out to, or give to: client',
        });
      }
    })
    .nullable(),
  examples: [null, { 'after-bytes': '1KB', to: 'client' }, { 'replace-reply': true }],
  compile: (p, ctx): ResetAction => ({
    type: 'reset',
    direction: ctx.direction,
    after_bytes: p?.['after-bytes'] ?? null,
    to: p?.to ?? (p?.['replace-reply'] === true ? 'client' : 'both'),
    replace_reply: p?.['replace-reply'] ?? false,
  }),
});
