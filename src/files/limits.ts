/**
 * How large a file qoslab reads may be (docs/security.md "A results folder"). Each cap is
 * checked with fstat before the first byte is read, so a 2 GB file or a link to
 * /dev/zero costs a system call, not memory. The run's own files stay below them: its
 * plan budget (scenario/budget.ts) keeps events.ndjson near 200 MB at most.
 */
export const MiB = 1024 * 1024;

export const FILE_CAPS = {
  'events.ndjson': 256 * MiB,
  'datapath.ndjson': 64 * MiB,
  /** A sample per flow per second and a record per flow: a busy run's flows stay far below. */
  'flows.ndjson': 256 * MiB,
  'summary.json': 64 * MiB,
  'compiled.json': 16 * MiB,
  'sweep.json': 16 * MiB,
  /** shard-<i>-of-<n>.json and <cell>/cell.json of a sweep. */
  manifest: 16 * MiB,
  'scenario.yaml': 1 * MiB,
  'env.json': 1 * MiB,
  /** A trace a scenario names (`trace:`): mahimahi traces of real links are a few MB. */
  trace: 16 * MiB,
} as const;

/** "16 MiB" for a cap, as messages state it. */
export function capText(bytes: number): string {
  return bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} bytes`;
}

/** Kernel file systems: never read on a scenario's behalf, never written results into. */
export const KERNEL_ROOTS = ['/proc', '/sys', '/dev'];

/** The kernel root an absolute path lies in, if any. */
export function kernelRootOf(abs: string): string | undefined {
  return KERNEL_ROOTS.find((r) => abs === r || abs.startsWith(`${r}/`));
}
