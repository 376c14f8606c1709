/**
 * A temporary report store for CLI tests: `const store = await tempStore(); await
 * store.add(report)` writes through the real store; `store.cleanup()` removes it all (register
 * it with afterEach).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../../src/report/schema.js';
import { writeReport } from '../../src/report/store.js';

/** A report store in a temporary directory. */
export interface TempStore {
  /** The working directory; the store is its `reports/`. */
  readonly cwd: string;
  readonly dir: string;
  /** Writes `report` into the store; returns its path. */
  add(report: Report): Promise<string>;
  cleanup(): Promise<void>;
}

/** Makes a {@link TempStore}. */
export async function tempStore(): Promise<TempStore> {
  const cwd = await mkdtemp(join(tmpdir(), 'churn-reports-'));
  const dir = join(cwd, 'reports');
  return {
    cwd,
    dir,
    add: (report) => writeReport(dir, report),
    cleanup: () => rm(cwd, { recursive: true, force: true }),
  };
}
