/**
 * What a results folder must hold when it is read back: `report`, `compare` and `merge`
 * recompute and join numbers from compiled.json, summary.json and sweep.json, so a value
 * of the wrong type or a missing key must be refused, located, not computed with: a
 * compiled.json whose deadlines were removed re-judged a run's delivery 100 % as 0 %, and
 * `workloads: [{}]` threw from deep inside the metrics. The schemas check what those
 * commands read; keys they do not read pass (a newer qoslab may add some).
 */
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { DEFAULTS } from '../scenario/defaults.js';
import { PROTOCOL_NAMES } from '../scenario/protocols/index.js';
import { describeFound } from '../scenario/units.js';

const count = z.number().int().min(0);
const positive = z.number().int().min(1);
const ns = z.number().int().min(0);
const name = z.string().min(1);
const direction = z.enum(['up', 'down', 'both']);

const Workload = z
  .looseObject({
    name,
    host: z.string(),
    server_name: z.string(),
    address: z.string(),
    address6: z.string().nullable(),
    protocol: z.enum(PROTOCOL_NAMES),
    port: z.number().int().min(1).max(65535),
    tls: z.boolean(),
    interval_ns: positive.nullable(),
    rate_bps: z.number().positive().nullable(),
    size_bytes: positive,
    deadline_ns: positive,
    direction,
    connections: positive,
    start_ns: ns,
    stop_ns: ns,
  })
  .refine((w) => w.interval_ns !== null || w.rate_bps !== null, {
    message: 'has neither interval_ns nor rate_bps',
  })
  .refine((w) => w.stop_ns >= w.start_ns, { message: 'stops before it starts', path: ['stop_ns'] });

const Expectation = z.looseObject({
  text: z.string(),
  workload: name,
  metric: name,
  op: z.enum(['<', '<=', '>', '>=', '==']),
  value: z.number(),
  kind: z.enum(['ratio', 'duration', 'rate', 'score', 'count', 'size', 'fps']),
  phase: name.nullable(),
});

const TimelineEntry = z.looseObject({
  at_ns: ns,
  phase: name,
  enable: z.array(z.string()),
  disable: z.array(z.string()),
  active: z.array(z.string()),
});

const Named = z.looseObject({ name: z.string() });

/** compiled.json, as src/scenario/compiled.ts documents it (what reading back needs). */
export const CompiledReadBack = z
  .looseObject({
    format: z.literal(1),
    name: z.string(),
    seed: z.number().int().min(0),
    duration_ns: positive,
    network: z.looseObject({}),
    hosts: z.array(Named),
    classes: z.array(Named),
    policies: z.array(z.looseObject({ name: z.string(), actions: z.array(z.looseObject({})) })),
    timeline: z.array(TimelineEntry),
    workloads: z.array(Workload),
    expect: z.array(Expectation),
  })
  .superRefine((c, ctx) => {
    const names = new Set(c.workloads.map((w) => w.name));
    const phases = new Set(c.timeline.map((t) => t.phase));
    c.timeline.forEach((t, i) => {
      if (i > 0 && t.at_ns < c.timeline[i - 1]!.at_ns) {
        ctx.addIssue({ code: 'custom', path: ['timeline', i, 'at_ns'], message: 'not in order' });
      }
    });
    c.expect.forEach((e, i) => {
      if (!names.has(e.workload)) {
        ctx.addIssue({
          code: 'custom',
          path: ['expect', i, 'workload'],
          message: `names no workload of this file ('${e.workload}')`,
        });
      }
      // Before a timeline's first entry (or without one) the phase is the default one.
      if (e.phase !== null && e.phase !== DEFAULTS.phase && !phases.has(e.phase)) {
        ctx.addIssue({
          code: 'custom',
          path: ['expect', i, 'phase'],
          message: `names no phase of the timeline ('${e.phase}')`,
        });
      }
    });
  });

const Scope = z.looseObject({
  phase: z.string().nullable(),
  directions: z.array(
    z.looseObject({
      dir: z.enum(['up', 'down', 'both']),
      sent: count,
      counted: count,
      delivered: count,
      delivery: z.number().min(0).max(1).nullable(),
      goodput_bps: z.number().min(0).nullable(),
    }),
  ),
});

/**
 * summary.json of a run that ended (what `merge` and `compare` read); a run still
 * `running` (killed) has only its first keys, and `report` recomputes the rest.
 */
export const SummaryReadBack = z
  .looseObject({
    format: z.literal(1),
    scenario: z.string(),
    status: z.enum(['completed', 'interrupted', 'failed']),
    exit_code: z.number().int().min(0).max(255),
    seed: z.number().int().min(0),
    duration_ns: ns,
    observed_ns: ns,
    faults: z.array(z.looseObject({ detail: z.string(), t: ns })),
    phases: z.array(z.looseObject({ name: z.string(), start: ns, end: ns })),
    workloads: z.array(z.looseObject({ name, protocol: z.string(), scopes: z.array(Scope) })),
    expectations: z.array(
      z.looseObject({
        text: z.string(),
        ok: z.boolean(),
        measured: z.number().nullable(),
        phase: z.string().nullable(),
      }),
    ),
    ok: z.boolean(),
    warnings: z.array(z.string()),
    error: z.string().nullable(),
  })
  // A run that failed before its scenario compiled has no duration; any other has one.
  .refine((s) => s.status === 'failed' || s.duration_ns > 0, {
    message: 'expected at least 1, found 0',
    path: ['duration_ns'],
  });

/**
 * A summary without the numbers: the one a run writes at its start (`running`, left by
 * a run killed outright), or the one a run that could not start leaves (`failed` and why).
 */
export const SummaryStartReadBack = z.looseObject({
  format: z.literal(1),
  scenario: z.string(),
  status: z.enum(['running', 'failed']),
  error: z.string().nullable().optional(),
});

const Cell = z.looseObject({
  index: count,
  id: z.string().min(1),
  params: z.record(z.string(), z.string()),
});

/** sweep.json (src/sweep/manifest.ts). */
export const SweepReadBack = z
  .looseObject({
    format: z.literal(1),
    kind: z.literal('qoslab-sweep'),
    scenario: z.string(),
    fingerprint: z.string().min(1),
    axes: z.array(z.looseObject({ key: z.string(), values: z.array(z.string()) })),
    repeat: positive,
    base_seed: z.number().int().min(0),
    duration_ns: positive,
    cells: z.array(Cell),
    runs_total: count,
  })
  .refine((m) => m.runs_total === m.cells.length * m.repeat, {
    message: 'runs_total is not cells x repeat',
    path: ['runs_total'],
  });

/** shard-<i>-of-<n>.json. */
export const ShardReadBack = z.looseObject({
  format: z.literal(1),
  fingerprint: z.string().min(1),
  shard: z.looseObject({ index: positive, count: positive }),
  runs: z.array(z.looseObject({ cell: z.string(), rep: count, seed: z.number().int().min(0) })),
});

function pathText(path: PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`))
    .join('');
}

function issueText(iss: z.core.$ZodIssue & { input?: unknown }): string {
  switch (iss.code) {
    case 'invalid_type':
      return iss.input === undefined
        ? `missing; expected ${iss.expected}`
        : `expected ${iss.expected}, found ${describeFound(iss.input)}`;
    case 'invalid_value':
      return `expected ${iss.values.map((v) => JSON.stringify(v)).join(' or ')}, found ${describeFound(iss.input)}`;
    case 'too_small':
      return `expected at least ${String(iss.minimum)}, found ${describeFound(iss.input)}`;
    case 'too_big':
      return `expected at most ${String(iss.maximum)}, found ${describeFound(iss.input)}`;
    default:
      return iss.message;
  }
}

/**
 * `value` (read from `file`) as `schema` says, or a UsageError (exit 2) naming the file
 * and where in it each problem is (up to five): "compiled.json: workloads[0].deadline_ns:
 * missing; expected number".
 */
export function checkReadBack<T>(
  schema: z.ZodType<T>,
  value: unknown,
  file: string,
  what: string,
): T {
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return r.data;
  const problems = r.error.issues.slice(0, 5).map((iss) => {
    const where = pathText(iss.path);
    return `${where === '' ? '' : `${where}: `}${issueText(iss as z.core.$ZodIssue & { input?: unknown })}`;
  });
  const more = r.error.issues.length > 5 ? ` (and ${r.error.issues.length - 5} more)` : '';
  throw new UsageError(`${file} is not ${what}: ${problems.join('; ')}${more}`, [
    'it was changed or damaged after the run wrote it; copy the results folder again from where the run wrote it',
  ]);
}
