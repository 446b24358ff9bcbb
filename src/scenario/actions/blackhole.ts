/** blackhole: drop every packet. Written `blackhole: {}` or just `blackhole:`. */
import { z } from 'zod';
import { defineAction, direction, type CompiledActionBase } from './action.js';

export interface BlackholeAction extends CompiledActionBase {
  type: 'blackhole';
}

export const blackhole = defineAction({
  params: z.strictObject({ ...direction }).nullable(),
  examples: [null, { direction: 'up' }],
  compile: (_p, ctx): BlackholeAction => ({ type: 'blackhole', direction: ctx.direction }),
});
