/**
 * Resource sampling of a real runtime daemon: `churn run` against the private containerd finds
 * containerd's pid through the driver (the socket's owner), and exports and reports its CPU,
 * memory, descriptors, threads, and its shims (which daemonize away from containerd, so they are
 * matched by the socket they serve). Against the private CRI-O with `--target-process crio`,
 * the same, its conmons counted as shims (they daemonize too; matched by their socket dir).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/schema.js';
import { startChurn } from '../support/churn-process.js';
import { containerdForTests } from '../support/containerd.js';
import { crioForTests } from '../support/crio.js';
import { tempDir } from '../support/core-fixtures.js';
import { parseExposition, waitFor } from '../support/prometheus.js';

const containerd = await containerdForTests();
afterAll(() => containerd.release());
const crio = await crioForTests();
afterAll(() => crio.release());

const daemons = [
  {
    name: 'containerd',
    how: 'the daemon the driver found',
    daemon: containerd,
    args: [] as string[],
    target: { name: 'containerd', source: 'driver' },
  },
  {
    name: 'crio',
    how: '--target-process crio',
    daemon: crio,
    args: ['--target-process', 'crio'],
    target: { name: 'crio', source: 'process' },
  },
].filter((d) => d.daemon.skipReason === undefined);

describe.skipIf(daemons.length === 0)('resources of a runtime daemon', () => {
  it.each(daemons)('$name: sampled from $how, shims included', async (d) => {
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
        d.daemon.endpoint,
        ...d.args,
        '--metrics-port',
        '0',
        '--metrics-linger',
        '0',
        '--quiet',
        // A loaded CI lagged churn's loop past the bound (125 ms at p99): not what is judged here.
        '--allow',
        'harness-bound',
        '--report-dir',
        join(dir, 'reports'),
      ],
      dir,
    );
    const url = await waitFor('the metrics address', () =>
      Promise.resolve(/churn: metrics at (\S+)/.exec(run.stderr())?.[1]),
    );
    // While the run goes on, /metrics shows the daemon with its shims.
    const scraped = await waitFor(
      `${d.name} with shims on /metrics`,
      async () => {
        const samples = parseExposition(await (await fetch(url)).text());
        const shims = samples.find((s) => s.name === 'churn_target_shims');
        return shims !== undefined && shims.value > 0 ? samples : undefined;
      },
      30_000,
      200,
    );
    const get = (name: string): number | undefined =>
      scraped.find((s) => s.name === name && s.labels['target'] === d.name)?.value;
    expect(get('churn_target_up')).toBe(1);
    expect(get('churn_target_resident_memory_bytes')).toBeGreaterThan(1_000_000);
    expect(get('churn_target_open_fds')).toBeGreaterThan(0);
    expect(get('churn_target_threads')).toBeGreaterThan(0);
    expect(get('churn_target_cpu_seconds_total')).toBeGreaterThan(0);
    expect(get('churn_target_shim_resident_memory_bytes')).toBeGreaterThan(0);

    expect(await run.exited, run.stderr()).toBe(0);
    const report = JSON.parse(await readFile(run.stdout().trim(), 'utf8')) as Report;
    const resources = report.resources!;
    expect(resources.target).toEqual(d.target);
    const up = resources.points.filter((p) => p.targetUp === true);
    expect(up.length).toBeGreaterThanOrEqual(5);
    expect(new Set(up.map((p) => p.targetPid))).toEqual(new Set([await d.daemon.pid()]));
    expect(Math.max(...up.map((p) => p.shims ?? 0))).toBeGreaterThan(0);
    // A cycle holds one pod (one shim; on CRI-O one conmon per container, no infra container);
    // two workers, so a handful at most.
    expect(Math.max(...up.map((p) => p.shims ?? 0))).toBeLessThanOrEqual(8);
    // CPU is cumulative: it never goes down while the daemon runs.
    const cpu = up.map((p) => p.targetCpuSeconds!);
    expect(cpu).toEqual([...cpu].sort((a, b) => a - b));
  });
});
