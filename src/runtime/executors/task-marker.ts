/**
 * The mark a core puts on every process of its `process` executor's tasks, so that it can find
 * them when the process tree no longer leads to them: an environment variable
 * `CHURN_CORE_TASK=<coreKey>/<containerId>` (common/task-mark.ts writes and reads it), inherited by whatever the task forks, including
 * processes that left its process group or session (setsid) and were re-parented to init.
 * `coreKey` names the core by its state directory (real path), so a core reopened on the same
 * directory, as `churn cleanup` does, recognises what an earlier one left. A process that
 * clears its environment escapes the mark; only the runc executor isolates for real.
 *
 * Finding marked processes reads /proc/<pid>/environ of every process (~30 µs each), too slow
 * for every stop of a churning core: stops walk the task's process tree instead
 * (process-tree.ts), and this scan runs when a core opens or closes, and in the background at
 * most once per sweep interval after a task exits.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { markedContainerId } from '../../common/task-mark.js';

/** Processes whose environment is read per turn of the event loop during a scan. */
const scanBatch = 32;

/** A process carrying a core's mark. */
export interface MarkedProcess {
  readonly pid: number;
  readonly containerId: string;
}

/** The key naming the core whose state is in `stateDir`: 16 hex digits of its real path's SHA-256. */
export async function coreKeyOf(stateDir: string): Promise<string> {
  const real = await realpath(stateDir);
  return createHash('sha256').update(real).digest('hex').slice(0, 16);
}

/**
 * The live processes, other than this one, that carry `coreKey`'s mark. Yields to the event
 * loop every few processes so a scan does not stall the core; processes that cannot be read
 * (gone, another user's) are skipped.
 */
export async function findMarkedProcesses(coreKey: string): Promise<MarkedProcess[]> {
  const found: MarkedProcess[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return found;
  }
  let read = 0;
  for (const name of names) {
    const first = name.charCodeAt(0);
    if (first < 48 || first > 57) continue; // not a pid
    const pid = Number(name);
    if (pid === process.pid) continue;
    if (++read % scanBatch === 0) await nextTurn();
    let environ: Buffer;
    try {
      // A zombie's environment reads as empty: it is never found.
      environ = readFileSync(`/proc/${name}/environ`);
    } catch {
      continue;
    }
    const containerId = markedContainerId(environ, coreKey);
    if (containerId !== undefined) found.push({ pid, containerId });
  }
  return found;
}
