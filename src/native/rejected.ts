import { UsageError } from '../errors.js';
import { NativeError } from './index.js';

/**
 * The core checks every value it is given. A value it refuses (QL_BAD_CONFIG) is the
 * scenario's fault — exit 2 with the core's named error — not a broken machine (exit 3)
 * and not a bug (exit 1). Anything else is returned unchanged.
 */
export function scenarioRejection(error: unknown): unknown {
  if (error instanceof NativeError && error.code === 'QL_BAD_CONFIG') {
    return new UsageError(`the core rejected the scenario (QL_BAD_CONFIG): ${error.message}`, [
      '`qoslab validate FILE` checks the documented limits',
    ]);
  }
  return error;
}
