/** trace: a mahimahi delivery-opportunity trace shapes this class's packets. */
import { z } from 'zod';
import { defineAction, direction, type CompiledActionBase } from './action.js';

export interface TraceAction extends CompiledActionBase {
  type: 'trace';
  /** mahimahi delivery-opportunity trace path (as written, or resolved against the scenario's folder). */
  file: string;
}

export const trace = defineAction({
  params: z.strictObject({ file: z.string().min(1), ...direction }),
  examples: [{ file: 'traces/link.down', direction: 'down' }],
  compile: (p, ctx): TraceAction => ({
    type: 'trace',
    direction: ctx.direction,
    file: ctx.file(p.file),
  }),
});
