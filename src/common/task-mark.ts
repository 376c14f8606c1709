/**
 * The mark a core puts on every process of its `process` executor's tasks:
 * `CHURN_CORE_TASK=<coreKey>/<containerId>` in the environment (runtime/executors/task-marker.ts
 * says why and how the core finds them). Written and read here, so that the core and the
 * harness's leak audit, which looks for task processes whose container is gone, agree on it.
 */

/** The environment variable that marks a task's processes. */
export const taskMarkerVariable = 'CHURN_CORE_TASK';

/** The `KEY=VALUE` entry that marks the processes of container `containerId` of core `coreKey`. */
export function taskMarker(coreKey: string, containerId: string): string {
  return `${taskMarkerVariable}=${coreKey}/${containerId}`;
}

/**
 * The container named by `coreKey`'s mark in `environ` (the NUL-separated bytes of
 * /proc/<pid>/environ), or undefined when it carries none. Only a whole variable counts: the
 * mark's text inside another variable's value does not.
 */
export function markedContainerId(environ: Buffer, coreKey: string): string | undefined {
  const prefix = `${taskMarkerVariable}=${coreKey}/`;
  for (let at = environ.indexOf(prefix); at >= 0; at = environ.indexOf(prefix, at + 1)) {
    if (at > 0 && environ[at - 1] !== 0) continue;
    const start = at + prefix.length;
    const nul = environ.indexOf(0, start);
    const id = environ.toString('latin1', start, nul < 0 ? environ.length : nul);
    return id === '' ? undefined : id;
  }
  return undefined;
}
