/**
 * A CPU hog for benchmarks: busy-looping `node` processes competing with whatever is measured
 * for the cores, as the other work on a shared CI machine does. They are stopped by
 * {@link CpuHog.stop}, killed when this process exits, and stop on their own when this process
 * is gone however it ended (each checks its parent every 100 ms), so none outlives the bench.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** Burns a core; exits once its parent is gone (re-parented: its parent pid changed). */
const hogScript = `const parent = process.ppid;
for (;;) {
  const until = Date.now() + 100;
  while (Date.now() < until);
  if (process.ppid !== parent) process.exit(0);
}`;

/** Running hog processes. */
export interface CpuHog {
  readonly pids: readonly number[];
  /** Kills every hog process (SIGKILL) and waits for them to exit. */
  stop(): Promise<void>;
}

/** Starts `count` busy-looping processes; resolves once every one has spawned. */
export async function startCpuHog(count: number): Promise<CpuHog> {
  const children: ChildProcess[] = [];
  const killAll = (): void => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  };
  process.on('exit', killAll);
  try {
    for (let i = 0; i < count; i++) {
      const child = spawn(process.execPath, ['-e', hogScript], { stdio: 'ignore' });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    }
  } catch (err) {
    killAll();
    process.off('exit', killAll);
    throw err;
  }
  return {
    pids: children.map((c) => c.pid ?? -1),
    async stop() {
      const exits = children
        .filter((c) => c.exitCode === null && c.signalCode === null)
        .map((c) => new Promise((resolve) => c.once('exit', resolve)));
      killAll();
      await Promise.all(exits);
      process.off('exit', killAll);
    },
  };
}
