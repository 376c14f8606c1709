/**
 * The names of the operations churn measures. They are a public contract: the metric label
 * `op`, the keys of `operations` in reports and the names used in thresholds. Extend, never
 * rename.
 */

/** Runtime operations a cycle step can perform and churn times. */
export const runtimeOps = [
  'pull',
  'run_pod',
  'create',
  'start',
  'exec',
  'status',
  'list',
  'stop',
  'remove',
  'stop_pod',
  'remove_pod',
] as const;

/** One runtime operation; see {@link runtimeOps}. */
export type RuntimeOp = (typeof runtimeOps)[number];

/** Every operation name churn records: the runtime operations and `cycle`, a whole cycle. */
export const opNames = [...runtimeOps, 'cycle'] as const;

/** An operation name as recorded; see {@link opNames}. */
export type OpName = (typeof opNames)[number];

const opNameSet: ReadonlySet<string> = new Set(opNames);

/** True when `name` is an operation churn records. */
export function isOpName(name: string): name is OpName {
  return opNameSet.has(name);
}
