// `churn run` end to end against the built-in core: the main job, exit codes, fault
// accounting, Ctrl-C, dry-run and `churn cleanup` after a killed run.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeHistogram, releaseHistogram } from '../../src/metrics/hdr.js';
import type { Report } from '../../src/report/schema.js';
import { eventually, processesWithMarker, tempDir } from '../support/core-fixtures.js';
import { runChurn, startChurn } from '../support/churn-process.js';

async function reportsIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const scenario of await readdir(dir).catch(() => [] as string[])) {
    for (const f of await readdir(join(dir, scenario))) {
      if (f.endsWith('.json')) out.push(join(dir, scenario, f));
    }
  }
  return out;
}

async function readReport(path: string): Promise<Report> {
  return JSON.parse(await readFile(path, 'utf8')) as Report;
}

/** A unique sleep duration, so the test can find the run's processes by command line. */
function marker(): string {
  return `3${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
}

async function scenarioFile(dir: string, body: string): Promise<string> {
  const path = join(dir, 'scenario.yaml');
  await writeFile(path, body);
  return path;
}

describe('churn run (built-in core)', () => {
  it('refuses an unknown or misspelled flag before running anything: exit 2, no report, no process', async () => {
    const dir = await tempDir();
    const m = marker();
    const file = await scenarioFile(
      dir,
      `name: typo\nworkload:\n  command: [sleep, "${m}"]\nload:\n  phases: [{ duration: 2s, concurrency: 1 }]\n`,
    );
    const { code, stdout, stderr } = await runChurn(
      ['run', file, '--concurency', '3', '--report-dir', 'out'],
      dir,
    );
    expect(code).toBe(2);
    expect(stderr).toContain('unknown flag --concurency; did you mean --concurrency?');
    expect(stderr).not.toContain('scenario typo');
    expect(stdout).toBe('');
    expect(await reportsIn(join(dir, 'out'))).toEqual([]);
    expect(processesWithMarker(m)).toEqual([]);
  });

  it('runs the smoke scenario: all seven operations and cycle, zero errors, one report, no process left', async () => {
    const dir = await tempDir();
    const m = marker();
    const file = await scenarioFile(
      dir,
      `name: main-job\nworkload:\n  command: [sleep, "${m}"]\nload:\n  phases: [{ duration: 3s, concurrency: 2 }]\nthresholds: ["error_rate == 0"]\n`,
    );
    // A loaded machine may lag churn's loop past the harness-bound bound (exit 1 otherwise):
    // judged here is the run's work; the mark's own tests are in cli-run-verdicts.test.ts.
    const { code, stdout, stderr } = await runChurn(
      ['run', file, '--report-dir', 'out', '--allow', 'harness-bound'],
      dir,
    );
    expect(stderr).toContain('scenario main-job');
    expect(code, stderr).toBe(0);
    for (const op of [
      'run_pod',
      'create',
      'start',
      'stop',
      'remove',
      'stop_pod',
      'remove_pod',
      'cycle',
    ]) {
      expect(stdout).toMatch(new RegExp(`^${op}\\s+\\d+\\s+0\\s`, 'm'));
    }
    const reports = await reportsIn(join(dir, 'out'));
    expect(reports).toHaveLength(1);
    expect(stdout).toContain(`report: ${reports[0]!}`);
    const report = await readReport(reports[0]!);
    expect(report.run.partial).toBe(false);
    expect(report.operations.cycle!.count).toBeGreaterThan(0);
    expect(report.environment.runtime.name).toBe('churn-core');
    expect(processesWithMarker(m)).toEqual([]);
  });

  it('with no scenario runs the built-in smoke scenario', async () => {
    const dir = await tempDir();
    const { code, stdout, stderr } = await runChurn(
      ['run', '--duration', '1s', '--quiet', '--allow', 'harness-bound'],
      dir,
    );
    expect(code, stderr).toBe(0);
    const reports = await reportsIn(join(dir, 'reports'));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain(join('reports', 'smoke'));
    expect(stdout.trim()).toBe(reports[0]);
  });

  it('refuses a scenario with a bad key with exit 2, naming the file, line and key', async () => {
    const dir = await tempDir();
    const file = await scenarioFile(
      dir,
      'name: bad\nload:\n  phases:\n    - duration: 1s\n      concurency: 2\n',
    );
    const { code, stderr } = await runChurn(['run', file], dir);
    expect(code).toBe(2);
    expect(stderr).toContain(`${file}:5:7`);
    expect(stderr).toContain('concurency');
    expect(stderr).toContain('concurrency');
    expect(await reportsIn(join(dir, 'reports'))).toEqual([]);
  });

  it('does not exit 0 when every cycle failed', async () => {
    const dir = await tempDir();
    const file = await scenarioFile(
      dir,
      'name: all-fail\nfaults:\n  start: { errorRate: 1, code: UNAVAILABLE }\nload:\n  phases: [{ duration: 1s, concurrency: 2 }]\n',
    );
    const { code, stdout, stderr } = await runChurn(['run', file], dir);
    expect(code).toBe(1);
    expect(stderr).toContain('no cycle succeeded');
    expect(stdout).toMatch(/^start\s+0\s+[1-9]\d*\s/m);
  });

  it('counts injected start errors (≈10%) by code, keeps them out of the histogram, and cleans up failed cycles', async () => {
    const dir = await tempDir();
    const m = marker();
    const file = await scenarioFile(
      dir,
      `name: faulty\nseed: 7\nfaults:\n  start: { errorRate: 0.1, code: UNAVAILABLE }\nworkload:\n  command: [sleep, "${m}"]\nload:\n  phases: [{ duration: 4s, concurrency: 2 }]\n`,
    );
    const { code, stderr } = await runChurn(
      ['run', file, '--quiet', '--allow', 'harness-bound'],
      dir,
    );
    expect(code, stderr).toBe(0);
    const [path] = await reportsIn(join(dir, 'reports'));
    const report = await readReport(path!);
    const start = report.operations.start!;
    const attempts = start.count + start.errors;
    expect(attempts).toBeGreaterThan(50);
    // Binomial(n, 0.1): 5 standard deviations either side.
    const sd = Math.sqrt(attempts * 0.1 * 0.9);
    expect(start.errors).toBeGreaterThan(attempts * 0.1 - 5 * sd);
    expect(start.errors).toBeLessThan(attempts * 0.1 + 5 * sd);
    expect(start.errorsByCode).toEqual({ UNAVAILABLE: start.errors });
    const histogram = decodeHistogram(start.histogram!);
    expect(histogram.totalCount).toBe(start.count);
    releaseHistogram(histogram);
    // Only start failed; the cycles it failed count as cycle errors.
    expect(report.operations.create!.errors).toBe(0);
    expect(report.operations.cycle!.errors).toBe(start.errors);
    // Each failed cycle removed its container and pod itself: the final sweep found nothing.
    expect(report.cleanup.calls).toBeGreaterThanOrEqual(2 * start.errors);
    expect(report.cleanup.failures).toBe(0);
    expect(report.cleanup.sweptContainers + report.cleanup.sweptPods).toBe(0);
    expect(report.cleanup.remainingContainers + report.cleanup.remainingPods).toBe(0);
    expect(processesWithMarker(m)).toEqual([]);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    // The terminal went away (a dropped ssh session): the soak's results are kept all the same.
    ['SIGHUP', 129],
  ] as const)(
    'on %s drains, removes what it created, writes a partial report and exits %i',
    async (signal, exit) => {
      const dir = await tempDir();
      const m = marker();
      const file = await scenarioFile(
        dir,
        `name: stopped\nworkload:\n  command: [sleep, "${m}"]\nload:\n  phases: [{ duration: 60s, concurrency: 3 }]\n`,
      );
      const p = startChurn(['run', file], dir);
      expect(await eventually(() => processesWithMarker(m).length > 0, 20_000)).toBe(true);
      p.child.kill(signal);
      const code = await p.exited;
      expect(code).toBe(exit);
      expect(p.stderr()).toContain(`${signal}: stopping`);
      const [path] = await reportsIn(join(dir, 'reports'));
      expect(p.stdout()).toContain(`report: ${path!}`);
      const report = await readReport(path!);
      expect(report.run.partial).toBe(true);
      expect(report.run.exitReason).toBe('interrupted');
      expect(report.cleanup.remainingContainers + report.cleanup.remainingPods).toBe(0);
      expect(processesWithMarker(m)).toEqual([]);
    },
  );

  it('refuses an endpoint nobody answers on with exit 2, writing no report', async () => {
    const dir = await tempDir();
    const { code, stderr } = await runChurn(
      ['run', '--endpoint', `unix://${join(dir, 'nobody.sock')}`, '--duration', '1s'],
      dir,
    );
    expect(code).toBe(2);
    expect(stderr).toContain('nobody.sock');
    expect(stderr).not.toContain('Resolution note');
    expect(await reportsIn(join(dir, 'reports'))).toEqual([]);
  });

  it('refuses a malformed or off-machine endpoint with exit 2, even in a dry run', async () => {
    const dir = await tempDir();
    for (const endpoint of ['tcp://example.com:1', 'ftp://x']) {
      const { code, stderr } = await runChurn(['run', '--endpoint', endpoint, '--dry-run'], dir);
      expect(code).toBe(2);
      expect(stderr).toContain(`--endpoint target.endpoint: "${endpoint}": `);
    }
  });

  it('refuses a task user the host does not have with exit 2, even in a dry run', async () => {
    const dir = await tempDir();
    const { code, stderr } = await runChurn(
      ['run', '--task-user', 'churn-no-such-user', '--dry-run'],
      dir,
    );
    expect(code).toBe(2);
    expect(stderr).toContain(
      `churn: target.taskUser "churn-no-such-user": no user "churn-no-such-user" in the host's /etc/passwd`,
    );
    const malformed = await runChurn(['run', '--task-user', '1:2:3', '--dry-run'], dir);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('--task-user target.taskUser: must be UID[:GID]');
    const planned = await runChurn(['run', '--task-user', '4321:4322', '--dry-run'], dir);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain('(executor process, task user 4321:4322)');
  });

  it('agrees with validate on a malformed endpoint in a file, naming file:line:column and key', async () => {
    const dir = await tempDir();
    const file = await scenarioFile(
      dir,
      'name: bad-endpoint\ntarget:\n  driver: cri\n  endpoint: http://localhost:1234\n',
    );
    const where = `${file}:4:13 target.endpoint: "http://localhost:1234": unsupported scheme`;
    const validated = await runChurn(['validate', file], dir);
    expect(validated.code).toBe(2);
    expect(validated.stdout + validated.stderr).toContain(where);
    const planned = await runChurn(['run', file, '--dry-run'], dir);
    expect(planned.code).toBe(2);
    expect(planned.stderr).toContain(where);
  });

  it('--dry-run prints the plan and touches no runtime', async () => {
    const dir = await tempDir();
    const file = await scenarioFile(
      dir,
      'name: planned\nload:\n  phases:\n    - { duration: 10s, concurrency: 1, rampTo: 4, record: false }\n    - { duration: 60s, arrivalRate: 10, rampTo: 40 }\n',
    );
    const { code, stdout } = await runChurn(['run', file, '--dry-run'], dir);
    expect(code).toBe(0);
    expect(stdout).toContain('closed loop, 1 → 4 workers');
    expect(stdout).toContain('warm-up');
    expect(stdout).toContain('open loop, 10 → 40 cycles/s (uniform), ≈1500 cycles');
    expect(await reportsIn(join(dir, 'reports'))).toEqual([]);
  });

  it('a killed run leaves no task process and no temporary state directory behind', async () => {
    const dir = await tempDir();
    const tmp = await tempDir();
    const m = marker();
    const file = await scenarioFile(
      dir,
      `name: killed-temp\nworkload:\n  command: [sleep, "${m}"]\n  steps: [run_pod, create, start, { sleep: 60s }, stop, remove, stop_pod, remove_pod]\nload:\n  phases: [{ duration: 60s, concurrency: 2 }]\n`,
    );
    const p = startChurn(['run', file], dir, { env: { TMPDIR: tmp } });
    expect(await eventually(() => processesWithMarker(m).length >= 2, 30_000)).toBe(true);
    expect((await readdir(tmp)).filter((f) => f.startsWith('churn-core-'))).toHaveLength(1);
    p.child.kill('SIGKILL');
    await p.exited;
    expect(await eventually(() => processesWithMarker(m).length === 0, 10_000)).toBe(true);
    expect(
      await eventually(
        async () => (await readdir(tmp)).filter((f) => f.startsWith('churn-core-')).length === 0,
        10_000,
      ),
    ).toBe(true);
  });

  it('a run killed while its core is busy leaves nothing: the core survives its late answer', async () => {
    const dir = await tempDir();
    const tmp = await tempDir();
    const m = marker();
    // The exec after the start stalls the core for 3 s, then fails at once: the harness is
    // killed during the stall, and the core answers into a channel that is gone (EPIPE).
    const file = await scenarioFile(
      dir,
      `name: killed-busy\nworkload:\n  command: [sleep, "${m}"]\n  steps: [run_pod, create, start, { exec: { command: ["true"] } }, stop, remove, stop_pod, remove_pod]\nload:\n  phases: [{ duration: 60s, concurrency: 1 }]\nfaults:\n  exec: { stall: 3s, errorRate: 100%, code: UNAVAILABLE }\n`,
    );
    const p = startChurn(['run', file], dir, { env: { TMPDIR: tmp } });
    expect(await eventually(() => processesWithMarker(m).length >= 1, 30_000)).toBe(true);
    p.child.kill('SIGKILL');
    await p.exited;
    expect(await eventually(() => processesWithMarker(m).length === 0, 15_000)).toBe(true);
    expect(
      await eventually(
        async () => (await readdir(tmp)).filter((f) => f.startsWith('churn-core-')).length === 0,
        15_000,
      ),
    ).toBe(true);
  });

  it('churn cleanup removes what a killed run left in a persistent state directory', async () => {
    const dir = await tempDir();
    const state = join(dir, 'state');
    const m = marker();
    const file = await scenarioFile(
      dir,
      `name: killed\ntarget: { stateDir: ${state} }\nworkload:\n  command: [sleep, "${m}"]\n  steps: [run_pod, create, start, { sleep: 60s }, stop, remove, stop_pod, remove_pod]\nload:\n  phases: [{ duration: 60s, concurrency: 2 }]\n`,
    );
    const p = startChurn(['run', file, '--run-id', 'killedrun01'], dir);
    expect(await eventually(() => processesWithMarker(m).length >= 2, 30_000)).toBe(true);
    p.child.kill('SIGKILL');
    await p.exited;
    // The core's process outlives the harness just long enough to stop its tasks.
    expect(await eventually(() => processesWithMarker(m).length === 0, 10_000)).toBe(true);

    const none = await runChurn(
      ['cleanup', '--run-id', 'otherrun', '--driver', 'builtin', '--state-dir', state],
      dir,
    );
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('nothing to clean up for run otherrun');

    const cleaned = await runChurn(
      ['cleanup', '--run-id', 'killedrun01', '--driver', 'builtin', '--state-dir', state],
      dir,
    );
    expect(cleaned.stderr).toBe('');
    expect(cleaned.code).toBe(0);
    expect(cleaned.stdout).toMatch(/removed 2 containers and 2 pods of run killedrun01/);
    expect(await eventually(() => processesWithMarker(m).length === 0, 10_000)).toBe(true);
  });

  it('a run whose churn and core are both killed: its state dir is named, and churn cleanup --driver builtin finds it', async () => {
    const dir = await tempDir();
    const tmp = await tempDir();
    const m = marker();
    const file = await scenarioFile(
      dir,
      `name: killed-both\nworkload:\n  command: [sleep, "${m}"]\n  steps: [run_pod, create, start, { sleep: 60s }, stop, remove, stop_pod, remove_pod]\nload:\n  phases: [{ duration: 60s, concurrency: 2 }]\n`,
    );
    const p = startChurn(['run', file], dir, { env: { TMPDIR: tmp }, ownProcessGroup: true });
    expect(await eventually(() => processesWithMarker(m).length >= 2, 30_000)).toBe(true);
    const [stateDir] = (await readdir(tmp)).filter((f) => f.startsWith('churn-core-'));
    expect(p.stderr()).toContain(`core state ${join(tmp, stateDir!)} (temporary`);
    // churn and its core together (the tasks run in process groups of their own).
    process.kill(-p.child.pid!, 'SIGKILL');
    await p.exited;
    expect(processesWithMarker(m).length).toBeGreaterThanOrEqual(2);
    expect(await readdir(tmp)).toContain(stateDir);

    const cleaned = await runChurn(['cleanup', '--all', '--driver', 'builtin'], dir, {
      env: { TMPDIR: tmp },
    });
    expect(cleaned.stderr).toBe('');
    expect(cleaned.code).toBe(0);
    expect(cleaned.stdout).toContain(`${join(tmp, stateDir!)}: removed 2 containers and 2 pods`);
    expect(cleaned.stdout).toContain('removed 1 temporary core state dirs');
    expect(await eventually(() => processesWithMarker(m).length === 0, 10_000)).toBe(true);
    expect((await readdir(tmp)).filter((f) => f.startsWith('churn-core-'))).toEqual([]);
  });

  it('churn cleanup needs --run-id or --all', async () => {
    const dir = await tempDir();
    const { code, stderr } = await runChurn(
      ['cleanup', '--driver', 'builtin', '--state-dir', dir],
      dir,
    );
    expect(code).toBe(2);
    expect(stderr).toContain('--run-id ID');
  });
});
