// Scenarios for the bench, written inline and compiled the way a user's file is.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../dist/index.js';

/**
 * The SNI-classified path: every flow goes through the flow table and the TLS classifier
 * (SNI globs of ten classes, a policy active), but iperf3 sends no ClientHello, so its
 * flow matches nothing and is then forwarded untouched. Were it wrongly matched, the
 * 1 Mbit/s policer would show at once.
 */
export const SNI_CLASSIFIED = `version: 1
name: bench-sni-classified
classes:
${Array.from({ length: 10 }, (_, i) => `  app${i}: { sni: ['*.app${i}.example', 'app${i}-cdn*.example'] }`).join('\n')}
policies:
  throttle:
    match: { class: [${Array.from({ length: 10 }, (_, i) => `app${i}`).join(', ')}] }
    actions:
      - police: { rate: 1mbit, burst: 16KB }
`;

/**
 * No classes, no policies: every flow goes through the flow table (and, when metering is
 * on, the flow meter) and is forwarded untouched, super-packets whole. The bench runs it
 * with metering on and off to weigh what metering costs.
 */
export const FLOWS_ONLY = `version: 1
name: bench-flows
`;

/** Compile a scenario written inline (the same path a user's file takes). */
export async function compiled(yaml) {
  const dir = mkdtempSync(join(tmpdir(), 'qoslab-bench-'));
  try {
    const file = join(dir, 'bench.yaml');
    writeFileSync(file, yaml);
    return (await loadScenario(file)).compiled;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
