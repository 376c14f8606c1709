/**
 * Resource sampling of a real runtime daemon: `churn run` against the private containerd finds
 * containerd's pid through the driver (the socket's owner), and exports and reports its CPU,
 * memory, descriptors, threads, and its shims (which daemonize away from containerd, so they are
 * matched by the socket they serve).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/schema.js';
import { startChurn } from '../support/churn-process.js';
import { containerdForTests } from '../support/containerd.js';
import { tempDir } from '../support/core-fixtures.js';
import { parseExposition, waitFor } from '../support/prometheus.js';

const containerd = await containerdForTests();
afterAll(() => containerd.release());

describe.skipIf(containerd.skipReason !== undefined)('resources of containerd', () => {
  it('are sampled from the daemon the driver found, shims included', async () => {
    const dir = await tempDir('churn-target-');
    const scenario = join(dir, 'scenario.yaml');
    await writeFile(
      scenario,
      'name: target-containerd\nworkload:\n  command: [sleep, "3600"]\nload:\n  phases: [{ duration: 6s, concurrency: 2 }]\n',
    );
    const run = startChurn(
      [
        'run',
        scenario,
        '--driver',
        'cri',
        '--endpoint',
        containerd.endpoint,
        '--metrics-port',
        '0',
        '--metrics-linger',
        '0',
        '--quiet',
        '--report-dir',
        join(dir, 'reports'),
      ],
      dir,
    );
    const url = await waitFor('the metrics address', () =>
      Promise.resolve(/churn: metrics at (\S+)/.exec(run.stderr())?.[1]),
    );
    // While the run goes on, /metrics shows containerd with its shims.
    const scraped = await waitFor(
      'containerd with shims on /metrics',
      async () => {
        const samples = parseExposition(await (await fetch(url)).text());
        const shims = samples.find((s) => s.name === 'churn_target_shims');
        return shims !== undefined && shims.value > 0 ? samples : undefined;
      },
      30_000,
      200,
    );
    const get = (name: string): number | undefined =>
      scraped.find((s) => s.name === name && s.labels['target'] === 'containerd')?.value;
    expect(get('churn_target_up')).toBe(1);
    expect(get('churn_target_resident_memory_bytes')).toBeGreaterThan(1_000_000);
    expect(get('churn_target_open_fds')).toBeGreaterThan(0);
    expect(get('churn_target_threads')).toBeGreaterThan(0);
    expect(get('churn_target_cpu_seconds_total')).toBeGreaterThan(0);
    expect(get('churn_target_shim_resident_memory_bytes')).toBeGreaterThan(0);

    expect(await run.exited, run.stderr()).toBe(0);
    const report = JSON.parse(await readFile(run.stdout().trim(), 'utf8')) as Report;
    const resources = report.resources!;
    expect(resources.target).toEqual({ name: 'containerd', source: 'driver' });
    const up = resources.points.filter((p) => p.targetUp === true);
    expect(up.length).toBeGreaterThanOrEqual(5);
    expect(new Set(up.map((p) => p.targetPid))).toEqual(new Set([await containerd.pid()]));
    expect(Math.max(...up.map((p) => p.shims ?? 0))).toBeGreaterThan(0);
    // A cycle holds one pod (one shim); two workers, so a handful at most.
    expect(Math.max(...up.map((p) => p.shims ?? 0))).toBeLessThanOrEqual(8);
    // CPU is cumulative: it never goes down while containerd runs.
    const cpu = up.map((p) => p.targetCpuSeconds!);
    expect(cpu).toEqual([...cpu].sort((a, b) => a - b));
  });
});
