/**
 * The actions, one file each, registered in this one table: the scenario schema's action
 * map, the JSON Schema, the compiler's dispatch and the `CompiledAction` union are all
 * derived from it. Adding an action is its file plus one row here (and the core's file
 * plus its row in `native/core`; see CONTRIBUTING.md). The row order is the order of the
 * JSON Schema's properties.
 */
import { z } from 'zod';
import type { Direction } from '../fields.js';
import type { ActionContext, ActionDefinition, CompiledActionBase } from './action.js';
import { blackhole } from './blackhole.js';
import { corrupt } from './corrupt.js';
import { delay } from './delay.js';
import { dnsInject } from './dns-inject.js';
import { dropAfter } from './drop-after.js';
import { duplicate } from './duplicate.js';
import { loss } from './loss.js';
import { penalty } from './penalty.js';
import { police } from './police.js';
import { rate } from './rate.js';
import { reorder } from './reorder.js';
import { reset } from './reset.js';
import { trace } from './trace.js';
import { trigger } from './trigger.js';

export const ACTIONS = {
  delay,
  loss,
  rate,
  police,
  duplicate,
  corrupt,
  reorder,
  blackhole,
  'drop-after': dropAfter,
  reset,
  penalty,
  trigger,
  trace,
  'dns-inject': dnsInject,
};

type Actions = typeof ACTIONS;
export type ActionName = keyof Actions;
export const ACTION_NAMES = Object.keys(ACTIONS) as ActionName[];

/** What the core receives for any action: the union of every action's compiled type. */
export type CompiledAction = ReturnType<Actions[ActionName]['compile']>;

/** One list item of `actions:` — a map holding exactly one action key. */
export const Action = z
  .strictObject(
    Object.fromEntries(ACTION_NAMES.map((k) => [k, ACTIONS[k].params.optional()])) as {
      [K in ActionName]: z.ZodOptional<Actions[K]['params']>;
    },
  )
  .superRefine((a, ctx) => {
    const given = Object.keys(a);
    if (given.length === 0) {
      ctx.addIssue({
        code: 'custom',
        params: { fallback: true },
        message: `expected one action (${ACTION_NAMES.join(', ')}), found an empty map`,
      });
    } else if (given.length > 1) {
      ctx.addIssue({
        code: 'custom',
        message: `an action item holds one action, found ${given.length} (${given.join(', ')}); give each its own '-' item`,
      });
    }
  })
  .meta({ minProperties: 1, maxProperties: 1 });

/** An action item after parsing: one key, its parameters with units resolved. */
export type ScenarioAction = z.output<typeof Action>;

/** Compiles a validated action item through its registry row. */
export function compileAction(action: ScenarioAction, file: ActionContext['file']): CompiledAction {
  const entries = Object.entries(action) as [ActionName, unknown][];
  const [name, params] = entries[0] ?? [];
  if (name === undefined || entries.length !== 1) {
    // The schema's superRefine admits exactly one key; reaching here is a bug, not bad input.
    throw new Error(`an action item must hold one action, found ${entries.length}`);
  }
  const direction: Direction = (params as { direction?: Direction } | null)?.direction ?? 'both';
  // The row for `name` is the one whose schema parsed `params`; TypeScript cannot
  // correlate the key with the row's parameter type through the union, hence the widening.
  const definition = ACTIONS[name] as ActionDefinition<z.ZodType, CompiledActionBase>;
  return definition.compile(params, { direction, file }) as CompiledAction;
}
