/**
 * Signalling a task's whole process tree: its process group (what it forked and kept) and its
 * descendants that left the group (setsid, setpgid), found by walking
 * /proc/<pid>/task/<tid>/children. The walk costs a directory read and one small read per
 * thread of each process in the tree (~0.1 ms for a lone process here, ~0.02 ms with warm
 * caches), cheap enough for every stop; reading every process's environment is not.
 *
 * A descendant is signalled with its own process group, when it leads one (kill(-pid) can only
 * reach the group a live process created): what it forks into its group is reached even if
 * the walk did not list it yet.
 *
 * A SIGKILL freezes the tree first (SIGSTOP to the group, then to each descendant and its group
 * before its children are read): a stopped process cannot fork, so the walk of a frozen tree
 * is complete and nothing forks away between the walk and the kill, short of a child created
 * in the very instant of the stop that leaves its group before the kill. What already left
 * the tree (a double fork whose middle process exited, re-parented to init) is out of reach
 * of the walk: task-marker.ts finds those.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Pids listed in the text of /proc/<pid>/task/<tid>/children (space-separated), appended to `out`. */
export function parseChildren(text: string, out: number[]): void {
  for (const word of text.split(' ')) {
    const pid = Number(word);
    if (word !== '' && Number.isInteger(pid) && pid > 0) out.push(pid);
  }
}

/** The children of process `pid` (of all its threads); empty when it is gone. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      parseChildren(readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1'), out);
    } catch {
      // The thread or the process is gone.
    }
  }
  return out;
}

/**
 * Every descendant of `pid`, parents before children. `visit` runs on each one before its
 * children are read (to stop it, so the list is complete).
 */
export function descendantsOf(
  pid: number,
  visit: (pid: number) => void = () => undefined,
): number[] {
  const seen = new Set<number>([pid]);
  const out: number[] = [];
  const pending = [pid];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    for (const child of childrenOf(next)) {
      if (seen.has(child)) continue;
      seen.add(child);
      visit(child);
      out.push(child);
      pending.push(child);
    }
  }
  return out;
}

/**
 * Sends `signal` to the process group led by `pid` and to every descendant of `pid` (with the
 * group each leads); with SIGKILL the tree is frozen first (see the module comment). Processes that are gone, or that
 * this process may not signal, are skipped.
 */
export function signalTree(pid: number, signal: NodeJS.Signals): void {
  if (signal !== 'SIGKILL') {
    trySignal(-pid, signal);
    for (const p of descendantsOf(pid)) signalWithGroup(p, signal);
    return;
  }
  trySignal(-pid, 'SIGSTOP');
  const tree = descendantsOf(pid, (p) => signalWithGroup(p, 'SIGSTOP'));
  trySignal(-pid, 'SIGKILL');
  for (const p of tree) signalWithGroup(p, 'SIGKILL');
}

/** Signals the process group `pid` leads, if any, and `pid` itself. */
function signalWithGroup(pid: number, signal: NodeJS.Signals): void {
  trySignal(-pid, signal);
  trySignal(pid, signal);
}

/** Sends `signal` to `target` (a pid, or minus a process group id); false when it could not. */
export function trySignal(target: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch {
    return false; // ESRCH: gone; EPERM: not ours to signal
  }
}
