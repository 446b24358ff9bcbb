/**
 * `--allow-path DIR`: the one way a scenario may name files outside its own folder
 * (docs/security.md). Every command that loads a scenario declares it with this option
 * object, so its text and its checks are the same everywhere.
 */
import { allowance, type FileAllowance } from '../scenario/files.js';

export interface AllowArgs {
  'allow-path'?: string[];
}

export const ALLOW_PATH_OPTION = {
  type: 'string',
  array: true,
  requiresArg: true,
  describe:
    'Let the scenario name files (traces) in DIR too; by default it may name only files in its own folder (repeatable)',
} as const;

export function allowanceOf(args: AllowArgs): FileAllowance {
  return allowance((args['allow-path'] ?? []).map(String));
}
