/**
 * What one action is, in one place: the parameters a scenario writes under its key (a zod
 * schema), and how they compile to the object the Rust core reads. Each action lives in
 * its own file next to this one and is listed once in ./index.ts; the scenario schema,
 * the JSON Schema and the compiler are all derived from that list.
 */
import type { z } from 'zod';
import { Direction } from '../fields.js';

/** What compiling an action needs besides its own parameters. */
export interface ActionContext {
  /** The action's packet direction (its `direction` key, default both). */
  direction: Direction;
  /** A file path as written, resolved against the scenario's folder when there is one. */
  file(path: string): string;
}

/** Fields every compiled action has; `type` and `direction` come first in the JSON. */
export interface CompiledActionBase {
  /** The core's name for the action (its registry key in `native/core`). */
  type: string;
  /** Packet direction the action applies to; other packets pass it untouched. Default both. */
  direction: Direction;
}

export interface ActionDefinition<Params extends z.ZodType, Compiled extends CompiledActionBase> {
  /** The parameters as written under the action's key; unknown keys are errors. */
  params: Params;
  /**
   * Parameters as a scenario writes them, one per distinct compiled form: the
   * cross-language golden test compiles each and has the Rust core build it.
   */
  examples: z.input<Params>[];
  /**
   * Parameters (units resolved to numbers) → the compiled action, every default filled
   * in and every key present, in a fixed order so the JSON is byte-for-byte stable.
   */
  compile(params: z.output<Params>, ctx: ActionContext): Compiled;
}

/** Declares an action; the identity, there so TypeScript infers and checks both halves together. */
export function defineAction<Params extends z.ZodType, Compiled extends CompiledActionBase>(
  definition: ActionDefinition<Params, Compiled>,
): ActionDefinition<Params, Compiled> {
  return definition;
}

/** The `direction` key every action takes; spread last in each params object. */
export const direction = { direction: Direction.optional() };
