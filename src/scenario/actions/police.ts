/** police: a token bucket per direction (and per flow); packets without tokens are dropped. */
import { z } from 'zod';
import { PositiveSize, Rate } from '../fields.js';
import { defineAction, direction, type CompiledActionBase } from './action.js';

export interface PoliceAction extends CompiledActionBase {
  type: 'police';
  rate_bps: number;
  /** Bucket depth, > 0. The bucket starts full. */
  burst_bytes: number;
}

export const police = defineAction({
  params: z.strictObject({ rate: Rate, burst: PositiveSize, ...direction }),
  examples: [{ rate: '128kbit', burst: '16KB', direction: 'down' }],
  compile: (p, ctx): PoliceAction => ({
    type: 'police',
    direction: ctx.direction,
    rate_bps: p.rate,
    burst_bytes: p.burst,
  }),
});
