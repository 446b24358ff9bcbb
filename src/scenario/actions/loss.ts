/**
 * loss: independent random loss (`rate`), or Gilbert–Elliott two-state loss
 * (`model: gilbert-elliott`, p, r, h, k), which the core runs as its own action type.
 */
import { z } from 'zod';
import { EXPECTED } from '../units.js';
import { Probability } from '../fields.js';
import { defineAction, direction, type CompiledActionBase } from './action.js';

/** Independent random loss. */
export interface LossAction extends CompiledActionBase {
  type: 'loss';
  /** Loss probability 0..=1. */
  rate: number;
}
/** Gilbert–Elliott two-state loss, as netem `loss gemodel p r 1-h 1-k`. */
export interface GilbertElliottAction extends CompiledActionBase {
  type: 'gilbert-elliott';
  /** P(good → bad) per packet. */
  p: number;
  /** P(bad → good) per packet. */
  r: number;
  /** P(packet delivered | bad state); default 0. */
  h: number;
  /** P(packet delivered | good state); default 1. */
  k: number;
}

const params = z
  .strictObject({
    rate: Probability.optional(),
    model: z.enum(['random', 'gilbert-elliott']).optional(),
    p: Probability.optional().meta({ description: 'Gilbert–Elliott: P(good → bad)' }),
    r: Probability.optional().meta({ description: 'Gilbert–Elliott: P(bad → good)' }),
    h: Probability.optional().meta({
      description: 'Gilbert–Elliott: P(delivered | bad), default 0',
    }),
    k: Probability.optional().meta({
      description: 'Gilbert–Elliott: P(delivered | good), default 1',
    }),
    ...direction,
  })
  .superRefine((l, ctx) => {
    if (l.model === 'gilbert-elliott') {
      for (const key of ['p', 'r'] as const) {
        if (l[key] === undefined)
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `missing; gilbert-elliott needs p and r`,
          });
      }
      if (l.rate !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['rate'],
          message: 'gilbert-elliott takes p, r, h, k, not rate',
        });
    } else {
      if (l.rate === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['rate'],
          message: `missing; expected ${EXPECTED.probability}`,
        });
      for (const key of ['p', 'r', 'h', 'k'] as const) {
        if (l[key] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `'${key}' needs model: gilbert-elliott`,
          });
        }
      }
    }
  });

/** The checks above guarantee the keys the chosen model needs; this states it once. */
function given(value: number | undefined): number {
  if (value === undefined) throw new Error('loss: a required key passed validation unset');
  return value;
}

export const loss = defineAction({
  params,
  examples: [
    { rate: '1%' },
    { model: 'gilbert-elliott', p: '1%', r: '30%', h: '10%', direction: 'up' },
  ],
  compile: (l, ctx): LossAction | GilbertElliottAction =>
    l.model === 'gilbert-elliott'
      ? {
          type: 'gilbert-elliott',
          direction: ctx.direction,
          p: given(l.p),
          r: given(l.r),
          h: l.h ?? 0,
          k: l.k ?? 1,
        }
      : { type: 'loss', direction: ctx.direction, rate: given(l.rate) },
});
