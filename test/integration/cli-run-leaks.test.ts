// The leak audit of `churn run` against the built-in core: a clean run reports zero leaks (its
// pods and containers, the core's task processes, zombies, mounts under its state directory),
// checks during the run with --leak-check-interval, and passes leak thresholds; a run whose
// runtime refuses to remove what it made (fault injection) reports what it left, warns, and
// fails `leaked_containers == 0` with exit 1.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/schema.js';
import { runChurn } from '../support/churn-process.js';
import { processesWithMarker, tempDir } from '../support/core-fixtures.js';

/** A unique sleep duration, so the test can find the run's processes by command line. */
function marker(): string {
  return `4${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
}

/** Writes the scenario `name`.yaml of `lines` in `dir`; returns its path. */
async function scenarioFile(dir: string, name: string, lines: readonly string[]): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

async function onlyReport(dir: string): Promise<Report> {
  const files: string[] = [];
  for (const scenario of await readdir(dir)) {
    for (const f of await readdir(join(dir, scenario))) {
      if (f.endsWith('.json')) files.push(join(dir, scenario, f));
    }
  }
  expect(files).toHaveLength(1);
  return JSON.parse(await readFile(files[0]!, 'utf8')) as Report;
}

describe('churn run: the leak audit (built-in core)', () => {
  it('a clean run reports zero leaks, checks during the run, and passes the leak thresholds', async () => {
    const dir = await tempDir();
    const m = marker();
    const file = await scenarioFile(dir, 'clean', [
      'name: leaks-clean',
      'workload:',
      `  command: [sleep, "${m}"]`,
      'load:',
      '  phases: [{ duration: 4s, concurrency: 2 }]',
      'thresholds:',
      '  - leaked_pods == 0',
      '  - leaked_containers == 0',
      '  - leaked_processes == 0',
      '  - leaked_mounts == 0',
      '  - error_rate == 0',
    ]);
    const { code, stdout, stderr } = await runChurn(
      ['run', file, '--report-dir', 'out', '--leak-check-interval', '1s'],
      dir,
    );
    expect(code, stderr).toBe(0);
    const report = await onlyReport(join(dir, 'out'));
    const leaks = report.leaks!;
    expect(leaks).toMatchObject({
      pods: 0,
      containers: 0,
      processes: 0,
      mounts: 0,
      podIds: [],
      containerIds: [],
      processList: [],
      mountList: [],
      notes: [],
    });
    // The core's state directory is where its mounts would be.
    expect(leaks.roots).toHaveLength(1);
    expect(leaks.roots[0]).toMatch(/churn-core-/);
    // Checks ran during the run: the run's objects in flight, the host scanned each time (the
    // core's task processes come and go; the process executor mounts nothing).
    expect(leaks.checks.length).toBeGreaterThanOrEqual(2);
    for (const check of leaks.checks) {
      expect(check.processes).not.toBeNull();
      expect(check.mounts).toBe(0);
    }
    expect(leaks.checks.some((k) => (k.pods ?? 0) > 0)).toBe(true);
    // The daemon (the core's process) was sampled; a 4 s run is too short for a slope.
    expect(leaks.target).toMatchObject({ name: 'churn-core' });
    expect(leaks.target?.rssBytes).toBeNull();
    expect(report.thresholds.every((t) => t.ok)).toBe(true);
    expect(stdout).toContain(
      'leaks: 0 pods, 0 containers, 0 processes, 0 mounts left after cleanup',
    );
    expect(processesWithMarker(m)).toEqual([]);
  });

  it('a runtime that keeps what it was asked to remove: reported, warned, leaked_containers == 0 fails (exit 1)', async () => {
    const dir = await tempDir();
    const m = marker();
    const file = await scenarioFile(dir, 'leaky', [
      'name: leaks-left',
      'faults:',
      '  remove: { errorRate: 1, code: INTERNAL }',
      '  remove_pod: { errorRate: 1, code: INTERNAL }',
      'workload:',
      `  command: [sleep, "${m}"]`,
      '  steps: [run_pod, create, start, stop]',
      'load:',
      '  phases: [{ duration: 1m, concurrency: 1 }]',
      '  iterations: 3',
      'thresholds:',
      '  - leaked_containers == 0',
      '  - error_rate == 0',
    ]);
    const { code, stdout, stderr } = await runChurn(['run', file, '--report-dir', 'out'], dir);
    // Judged by its threshold (1), not broken (3): the leak is the runtime's finding.
    expect(code, stderr).toBe(1);
    expect(stderr).toContain('threshold(s) failed: leaked_containers == 0');
    const report = await onlyReport(join(dir, 'out'));
    expect(report.run.exitReason).toBe('completed');
    expect(report.leaks).toMatchObject({ pods: 3, containers: 3, processes: 0 });
    expect(report.leaks!.containerIds).toHaveLength(3);
    expect(report.thresholds.map((t) => [t.source, t.actual, t.ok])).toEqual([
      ['leaked_containers == 0', 3, false],
      ['error_rate == 0', 0, true],
    ]);
    expect(report.warnings.some((w) => w.startsWith('cleanup left 3 pods and 3 containers'))).toBe(
      true,
    );
    expect(stdout).toContain(
      'leaks: 3 pods, 3 containers, 0 processes, 0 mounts left after cleanup',
    );
    // Closing the core stopped the tasks it still had.
    expect(processesWithMarker(m)).toEqual([]);
  });

  it('without a leak threshold, objects left behind still break the run (exit 3)', async () => {
    const dir = await tempDir();
    const file = await scenarioFile(dir, 'leaky-ungated', [
      'name: leaks-ungated',
      'faults:',
      '  remove_pod: { errorRate: 1, code: INTERNAL }',
      'workload:',
      '  steps: [run_pod, stop_pod]',
      'load:',
      '  phases: [{ duration: 1m, concurrency: 1 }]',
      '  iterations: 2',
    ]);
    const { code, stderr } = await runChurn(['run', file, '--report-dir', 'out'], dir);
    expect(code, stderr).toBe(3);
    expect(stderr).toContain('cleanup left 2 pods and 0 containers');
    const report = await onlyReport(join(dir, 'out'));
    expect(report.leaks).toMatchObject({ pods: 2, containers: 0 });
  });
});
