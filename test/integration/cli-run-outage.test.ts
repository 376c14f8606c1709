// churn run through an outage of the runtime: the built-in core served over CRI goes away
// mid-run and comes back. The workers back off (a few attempts per worker per second, not a
// hot loop), the report holds the outage with its failed cycles and recovery, the summary
// warns of it, and an outage longer than --max-outage breaks the run (exit 3).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import type { Report } from '../../src/report/schema.js';
import { bufferIo } from '../support/cli-io.js';
import { tempDir } from '../support/core-fixtures.js';
import { serveCore } from '../support/cri-serve.js';

const cleanup = (fn: () => Promise<void>): void => onTestFinished(fn);

/** Runs 4 workers for `duration` against `endpoint`; the server is down from 2 s for `downMs`. */
async function runThroughOutage(extraArgs: readonly string[], downMs: number, duration: string) {
  const served = await serveCore(cleanup);
  await served.core.pullImage('host');
  const dir = await tempDir();
  const file = join(dir, 'scenario.yaml');
  await writeFile(
    file,
    [
      'name: outage',
      'workload:',
      '  image: host',
      '  steps: [run_pod, { sleep: 50ms }, stop_pod, remove_pod]',
      'load:',
      `  phases: [{ duration: ${duration}, concurrency: 4 }]`,
      '',
    ].join('\n'),
  );
  const io = bufferIo({ cwd: dir });
  // The outage starts once cycles run (the first status line), so a slow start cannot eat it.
  let down: Promise<void> | undefined;
  const watch = setInterval(() => {
    if (down !== undefined || !/ · cycles \d+ ok/.test(io.stderr())) return;
    down = (async () => {
      await new Promise((r) => setTimeout(r, 1000));
      await served.stopServer();
      await new Promise((r) => setTimeout(r, downMs));
      await served.restartServer();
    })();
  }, 20);
  onTestFinished(() => clearInterval(watch));
  const code = await runCli(
    ['run', file, '--endpoint', served.endpoint, '--report-dir', 'out', ...extraArgs],
    io.io,
  );
  clearInterval(watch);
  await down;
  const path = /^report: (.+)$/m.exec(io.stdout())?.[1];
  expect(path, io.stderr()).toBeDefined();
  const report = JSON.parse(await readFile(path!, 'utf8')) as Report;
  return { code, stderr: io.stderr(), stdout: io.stdout(), report, served };
}

describe('churn run through an outage of the runtime', () => {
  it('backs off, records the outage and its recovery, warns, and leaves nothing', async () => {
    const downMs = 3000;
    const { code, stderr, stdout, report, served } = await runThroughOutage([], downMs, '10s');
    expect(report.outages, stderr).toHaveLength(1);
    const [o] = report.outages;
    // It lasted the server's downtime, plus up to one capped backoff (5 s) to notice the return.
    expect(o!.endMs).not.toBeNull();
    const lengthMs = o!.endMs! - o!.startMs;
    expect(lengthMs).toBeGreaterThan(downMs - 1000);
    expect(lengthMs).toBeLessThan(downMs + 5000 + 2000);
    // Backoff: 4 workers over ~3 s make a handful of attempts each, not thousands.
    expect(o!.failedCycles).toBeGreaterThanOrEqual(4);
    expect(o!.failedCycles).toBeLessThan(4 * 12);
    // Each failed cycle failed one step UNAVAILABLE (run_pod, or a later step of a cycle the
    // outage caught midway).
    const unavailable = Object.entries(report.operations)
      .filter(([op]) => op !== 'cycle')
      .reduce((n, [, v]) => n + (v.errorsByCode['UNAVAILABLE'] ?? 0), 0);
    expect(unavailable).toBe(o!.failedCycles);
    // The summary says it.
    expect(stdout).toMatch(/warning: the runtime was unreachable for [\d.]+s from [\dms.]+ into/);
    expect(report.warnings.join('\n')).toContain('until a cycle succeeded again');
    expect(report.cycles.succeeded).toBeGreaterThan(0);
    expect(report.cleanup.remainingPods).toBe(0);
    expect(code).toBe(0);
    expect(await served.core.listPodSandbox({})).toEqual([]);
  });

  it('breaks the run (exit 3) when the runtime stays away longer than --max-outage', async () => {
    const { code, stderr, report } = await runThroughOutage(['--max-outage', '2s'], 8000, '30s');
    expect(code).toBe(3);
    expect(report.run.exitReason).toBe('broken');
    expect(stderr).toMatch(/longer than integrity\.maxOutage \(2s; --max-outage\)/);
    // Stopped soon after the limit, not at the end of the 30 s plan.
    expect(report.run.durationMs).toBeLessThan(20_000);
    expect(report.outages).toHaveLength(1);
  });
});
