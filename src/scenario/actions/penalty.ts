/** penalty: once a flow reaches this action, later flows sharing the scope are dropped (or throttled) for a while. */
import { z } from 'zod';
import { Direction, PositiveDuration, Probability } from '../fields.js';
import { defineAction, direction, type ActionContext, type CompiledActionBase } from './action.js';
import { police, type PoliceAction } from './police.js';
import { rate, type RateAction } from './rate.js';

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
  /** Penalised packets go through this instead of being dropped; null: dropped. */
  throttle: RateAction | PoliceAction | null;
}

// A throttle is a rate or police action as written under its own key, less `direction`
// (the penalty's `block` says which packets of a penalised flow it reaches).
const Throttle = z
  .strictObject({
    rate: rate.params.omit({ direction: true }).optional(),
    police: police.params.omit({ direction: true }).optional(),
  })
  .superRefine((t, ctx) => {
    const given = Object.keys(t);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        // An empty map's message gives way to an unknown key's at the same place.
        params: given.length === 0 ? { fallback: true } : undefined,
        message: `expected one of rate, police, found ${given.length === 0 ? 'an empty map' : given.join(' and ')}`,
      });
    }
  });

function compileThrottle(
  t: z.output<typeof Throttle>,
  ctx: ActionContext,
): RateAction | PoliceAction {
  const inner = { ...ctx, direction: 'both' as const };
  if (t.rate !== undefined) return rate.compile(t.rate, inner);
  // The refinement admits exactly one key.
  return police.compile(t.police!, inner);
}

export const penalty = defineAction({
  params: z.strictObject({
    scope: z.array(z.enum(SCOPES)).min(1),
    duration: PositiveDuration,
    probability: Probability.optional(),
    block: Direction.optional(),
    'include-trigger': z.boolean().optional(),
    throttle: Throttle.optional(),
    ...direction,
  }),
  examples: [
    { scope: ['server-ip', 'client-ip'], duration: '3m', probability: '50%' },
    {
      scope: ['server-ip'],
      duration: '10m',
      throttle: { police: { rate: '64kbit', burst: '8KB' } },
    },
    { scope: ['server-ip'], duration: '10m', block: 'down', throttle: { rate: { rate: '1mbit' } } },
  ],
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
    throttle: p.throttle === undefined ? null : compileThrottle(p.throttle, ctx),
  }),
});
