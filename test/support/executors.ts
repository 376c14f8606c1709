// Which executors of the built-in core the integration tests run against: `process` always,
// `runc` when root and runc are there. In CI (CI=true) a missing runc is a failure, not a skip.
import { execFileSync } from 'node:child_process';
import type { ExecutorName } from '../../src/runtime/executors/executor.js';

/** True when runc can be used here: root, and a runc binary that answers. */
export function runcAvailable(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('runc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The executors to test, each with whether its tests are skipped. */
export function executorsUnderTest(): { name: ExecutorName; skip: boolean }[] {
  const runc = runcAvailable() || process.env.CI === 'true';
  return [
    { name: 'process', skip: false },
    { name: 'runc', skip: !runc },
  ];
}
