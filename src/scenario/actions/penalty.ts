/** penalty: once a flow reaches this action, later flows sharing the scope are dropped for a while. */
import { z } from 'zod';
import { Direction, PositiveDuration, Probability } from '../fields.js';
import { defineAction, direction, type CompiledActionBase } from './action.js';

const SCOPES = ['client-ip', 'server-ip', 'server-port'] as const;
type CompiledScope = 'client_ip' | 'server_ip' | 'server_port';

export interface PenaltyAction extends CompiledActionBase {
  type: 'penalty';
  /** Fields that identify "the same" later flows; sorted, deduplicated. */
  scope: CompiledScope[];
  duration_ns: number;
  /** Fraction of the later flows that are dropped; default 1. */
  probability: number;
  /** Which packets of a penalised flow are dropped; default both. */
  block: 'up' | 'down' | 'both';
  /** The flow that set the penalty is penalised too, from its next packet; default false. */
  include_trigger: boolean;
}

export const penalty = defineAction({
  params: z.strictObject({
    scope: z.array(z.enum(SCOPES)).min(1),
    duration: PositiveDuration,
    probability: Probability.optional(),
    block: Direction.optional(),
    'include-trigger': z.boolean().optional(),
    ...direction,
  }),
  examples: [{ scope: ['server-ip', 'client-ip'], duration: '3m', probability: '50%' }],
  compile: (p, ctx): PenaltyAction => ({
    type: 'penalty',
    direction: ctx.direction,
    scope: SCOPES.filter((s) => p.scope.includes(s)).map(
      (s) => s.replace('-', '_') as CompiledScope,
    ),
    duration_ns: p.duration,
    probability: p.probability ?? 1,
    block: p.block ?? 'both',
    include_trigger: p['include-trigger'] ?? false,
  }),
});
