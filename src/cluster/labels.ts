/**
 * The labels churn puts on every Kubernetes object `churn cluster run` creates: how `churn
 * cluster cleanup` finds leftovers, and how one run's objects are told from another's.
 */

/** `app.kubernetes.io/managed-by` value of churn's objects. */
export const managedBy = 'churn';
/** Label key holding the cluster run's id. */
export const runLabel = 'churn/run';
/** Label key holding the node a pod runs on. */
export const nodeLabel = 'churn/node';

/** The labels of every object of cluster run `runId`. */
export function runLabels(runId: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'churn',
    'app.kubernetes.io/managed-by': managedBy,
    [runLabel]: runId,
  };
}

/** Label selector of churn's objects: all of them, or one run's. */
export function churnSelector(runId?: string): string {
  const all = `app.kubernetes.io/managed-by=${managedBy}`;
  return runId === undefined ? all : `${all},${runLabel}=${runId}`;
}
