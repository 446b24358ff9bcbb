/**
 * What the twin does not model for a workload, in a few words, printed beside its rows:
 * what its protocol's stacks do that the twin leaves out (the `unmodelled` of its wire
 * shape), and what the scenario asks of the lab that only the lab does.
 */
import type { CompiledConfig, CompiledWorkload } from '../scenario/compiled.js';
import { PROTOCOLS, wireOf } from '../scenario/protocols/index.js';
import { LAB_RATE_BPS } from './plan.js';

export function unmodelled(config: CompiledConfig, w: CompiledWorkload): string[] {
  const notes: string[] = [];
  const own = wireOf(w).unmodelled;
  if (own !== '-') notes.push(own);
  const p = PROTOCOLS[w.protocol];
  const link = w.direction === 'up' ? config.network.uplink : config.network.downlink;
  // Nothing on the path limits a bulk transfer: the lab moves it as fast as its CPU
  // forwards, which the twin stands in for with a fixed rate.
  if (p.traffic === 'window' && link.rate_bps === null && link.trace_file === null) {
    notes.push(`the lab's CPU (its path as ${LAB_RATE_BPS / 1e9} Gbit/s)`);
  }
  return notes;
}
