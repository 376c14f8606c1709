// `churn run --metrics-port`: /metrics answers during the run and, with the final values, while
// it lingers after; Ctrl-C ends the linger with the run's exit code; a run stopped by a signal
// does not linger at all.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startChurn, type ChurnProcess } from '../support/churn-process.js';
import { tempDir } from '../support/core-fixtures.js';
import { waitFor } from '../support/prometheus.js';

async function scenario(dir: string, duration: string): Promise<string> {
  const path = join(dir, 'scenario.yaml');
  await writeFile(
    path,
    `name: linger\nworkload:\n  command: [sleep, "3600"]\nload:\n  phases: [{ duration: ${duration}, concurrency: 1 }]\n`,
  );
  return path;
}

function metricsUrl(run: ChurnProcess): Promise<string> {
  return waitFor('the metrics address', () =>
    Promise.resolve(/churn: metrics at (\S+)/.exec(run.stderr())?.[1]),
  );
}

async function active(url: string): Promise<number | undefined> {
  const text = await (await fetch(url)).text();
  const match = /^churn_run_active\{[^}]*\} (\d+)$/m.exec(text);
  return match === null ? undefined : Number(match[1]);
}

describe('churn run --metrics-port', () => {
  it('serves during the run and the final values while lingering; Ctrl-C ends the linger', async () => {
    const dir = await tempDir();
    const run = startChurn(
      [
        'run',
        await scenario(dir, '2s'),
        '--metrics-port',
        '0',
        '--metrics-linger',
        '10m',
        '--report-dir',
        'out',
      ],
      dir,
    );
    const url = await metricsUrl(run);
    expect(await active(url)).toBe(1);
    await waitFor('the report', () =>
      Promise.resolve(run.stdout().includes('report: ') ? true : undefined),
    );
    expect(run.stderr()).toContain('serving the final metrics');
    expect(await active(url)).toBe(0);
    const cycles = /^churn_cycles_total\{[^}]*outcome="success"\} (\d+)$/m.exec(
      await (await fetch(url)).text(),
    );
    expect(Number(cycles?.[1])).toBeGreaterThan(0);
    run.child.kill('SIGINT');
    // Well before the 10 minute linger: the test's own timeout would catch a linger.
    expect(await run.exited).toBe(0);
  });

  it('does not linger after a run stopped by a signal', async () => {
    const dir = await tempDir();
    const run = startChurn(
      [
        'run',
        await scenario(dir, '10m'),
        '--metrics-port',
        '0',
        '--metrics-linger',
        '10m',
        '--report-dir',
        'out',
      ],
      dir,
    );
    const url = await metricsUrl(run);
    await waitFor('the run to be active', async () =>
      (await active(url)) === 1 ? true : undefined,
    );
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.stderr()).not.toContain('serving the final metrics');
  });
});
