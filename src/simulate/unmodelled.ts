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
  // The lab looks every host's name up through its resolver before connecting; the twin
  // connects straight away, so what acts on lookups (a resolver rule that refuses,
  // misdirects or delays a name, a policy injecting answers) is not applied to it (lookup
  // workloads say so in their own note).
  const onLookups = lookupCensors(config);
  if (!config.dns.hosts_file && onLookups.length > 0 && wireOf(w).toResolver !== true) {
    notes.push(`name lookups, so ${onLookups.join(', ')}`);
  }
  return notes;
}

/** What in the scenario acts on name lookups: resolver rules, policies injecting answers. */
function lookupCensors(config: CompiledConfig): string[] {
  return [
    ...config.dns.rules.map((r) => `resolver rule ${r.name}`),
    ...config.policies
      .filter((p) => p.actions.some((a) => a.type === 'dns-inject'))
      .map((p) => `policy ${p.name}`),
  ];
}
