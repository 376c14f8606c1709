/**
 * The cri driver against the private containerd: what it reports, full cycles on each of the
 * two runtime handlers with host networking and nothing left behind, and a daemon restart.
 * Then churn run's leak audit there: a clean run leaves nothing (containerd's shims, zombies
 * and mounts under its root and state dirs checked), and a mount left under its state dir is
 * found.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readlink, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { isChurnError } from '../../src/common/errors.js';
import { CriDriver } from '../../src/drivers/cri.js';
import type { ContainerSpec } from '../../src/drivers/driver.js';
import type { Report } from '../../src/report/schema.js';
import { startChurn } from '../support/churn-process.js';
import { containerdForTests } from '../support/containerd.js';
import { processesWithMarker, tempDir } from '../support/core-fixtures.js';
import { containerSpec, podSpec } from '../support/driver-specs.js';

const containerd = await containerdForTests();
afterAll(() => containerd.release());

function driverFor(runtimeHandler: string): CriDriver {
  const driver = new CriDriver({
    endpoint: containerd.endpoint,
    runtimeHandler,
    callTimeoutMs: 60_000,
  });
  onTestFinished(() => driver.close());
  return driver;
}

/** A busybox container with `labels` running `command`. */
const busybox = (labels: Record<string, string>, command: readonly string[]): ContainerSpec =>
  containerSpec({ image: containerd.busyboxRef, command, env: { CHURN: '1' }, labels });

describe.skipIf(containerd.skipReason !== undefined)('cri driver against containerd', () => {
  it('reports containerd, CRI v1, the handler and the daemon pid', async () => {
    const driver = driverFor('runc');
    const info = await driver.connect();
    expect(info).toMatchObject({
      runtimeName: 'containerd',
      runtimeApiVersion: 'v1',
      runtimeHandler: 'runc',
    });
    expect(info.runtimeVersion).toMatch(/^\d+\.\d+/);
    expect(info.pid).toBe(await containerd.pid());
    expect(await driver.pullImage(containerd.busyboxRef)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it.each(['runc', 'runc-nopivot'])(
    'runs full cycles on handler %s in the host network namespace, leaving no pod, container or process',
    async (handler) => {
      const driver = driverFor(handler);
      await driver.connect();
      const runId = `e2e-${handler}-${process.pid}-${Date.now()}`;
      const labels = { 'churn.test/run': runId };
      const marker = `churn-marker-${runId}`;
      const hostNet = await readlink('/proc/self/ns/net');
      await Promise.all(
        [0, 1].map(async (worker) => {
          for (let i = 0; i < 2; i++) {
            const pod = podSpec(`${runId}-${worker}-${i}`, { labels });
            const podId = await driver.runPod(pod);
            const id = await driver.createContainer(
              podId,
              pod,
              busybox(labels, ['sh', '-c', `sleep 3600; echo ${marker}-${worker}-${i}`]),
            );
            await driver.startContainer(id);
            expect(await driver.containerStatus(id)).toMatchObject({ id, podId, state: 'RUNNING' });
            const out = await driver.exec(
              id,
              ['sh', '-c', 'echo $CHURN; readlink /proc/1/ns/net >/dev/null; exit 4'],
              10,
            );
            expect(out).toEqual({ exitCode: 4, stdout: '1\n', stderr: '' });
            const pids = processesWithMarker(`${marker}-${worker}-${i}`);
            expect(pids.length).toBeGreaterThan(0);
            for (const pid of pids) expect(await readlink(`/proc/${pid}/ns/net`)).toBe(hostNet);
            await driver.stopContainer(id, 0);
            expect(await driver.containerStatus(id)).toMatchObject({
              state: 'EXITED',
              exitCode: 137,
            });
            await driver.removeContainer(id);
            await driver.stopPod(podId);
            await driver.removePod(podId);
          }
        }),
      );
      expect(await driver.listPods({ labelSelector: labels })).toEqual([]);
      expect(await driver.listContainers({ labelSelector: labels })).toEqual([]);
      expect(processesWithMarker(marker)).toEqual([]);
    },
  );

  it('fails calls with UNAVAILABLE while containerd restarts, and succeeds after', async () => {
    const driver = driverFor('runc');
    await driver.connect();
    const runId = `e2e-restart-${process.pid}-${Date.now()}`;
    const labels = { 'churn.test/run': runId };
    const pod = podSpec(runId, { labels });
    const podId = await driver.runPod(pod);
    const restarting = containerd.restart();
    // While it is down (the socket is gone or refuses), calls fail fast with UNAVAILABLE.
    let sawUnavailable = false;
    for (let i = 0; i < 200 && !sawUnavailable; i++) {
      try {
        await driver.listPods({ labelSelector: labels });
      } catch (err) {
        expect(isChurnError(err, 'UNAVAILABLE')).toBe(true);
        sawUnavailable = true;
      }
    }
    await restarting;
    expect(sawUnavailable).toBe(true);
    // The same driver (one channel) works again, and the pod survived the restart.
    let pods: unknown[] | undefined;
    for (let i = 0; i < 50 && pods === undefined; i++) {
      pods = await driver.listPods({ labelSelector: labels }).catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return undefined;
      });
    }
    expect(pods?.length).toBe(1);
    await driver.stopPod(podId);
    await driver.removePod(podId);
    expect(await driver.listPods({ labelSelector: labels })).toEqual([]);
  });
});

describe.skipIf(containerd.skipReason !== undefined)("churn run's leak audit on containerd", () => {
  /**
   * Runs 6 s of the default cycle against the private containerd with the leak thresholds and
   * a check every second; `during` runs once cycles are going. Resolves the exit code, stderr
   * and the report.
   */
  async function auditedRun(during?: () => Promise<void>) {
    const dir = await tempDir('churn-e2e-');
    const file = join(dir, 'leaks.yaml');
    await writeFile(
      file,
      [
        'name: leaks-containerd',
        'load:',
        '  phases: [{ duration: 6s, concurrency: 2 }]',
        'leaks: { checkInterval: 1s }',
        'thresholds:',
        '  - leaked_pods == 0',
        '  - leaked_containers == 0',
        '  - leaked_processes == 0',
        '  - leaked_mounts == 0',
        '',
      ].join('\n'),
    );
    const run = startChurn(
      [
        'run',
        file,
        '--driver',
        'cri',
        '--endpoint',
        containerd.endpoint,
        '--report-dir',
        'out',
        '--allow',
        'harness-bound',
      ],
      dir,
    );
    if (during !== undefined) {
      while (!/ · cycles \d+ ok/.test(run.stderr()) && run.child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await during();
    }
    const code = await run.exited;
    const path = /^report: (.+)$/m.exec(run.stdout())?.[1];
    expect(path, run.stderr()).toBeDefined();
    const report = JSON.parse(await readFile(path!, 'utf8')) as Report;
    return { code, stderr: run.stderr(), report };
  }

  it('a clean run reports zero leaks, with the host side measured', async () => {
    const { code, stderr, report } = await auditedRun();
    expect(code, stderr).toBe(0);
    expect(report.leaks).toMatchObject({
      pods: 0,
      containers: 0,
      processes: 0,
      mounts: 0,
      processList: [],
      mountList: [],
      notes: [],
    });
    // containerd's root and state, read from its command line and config file.
    expect(report.leaks!.roots).toEqual([
      join(containerd.paths.dir, 'root'),
      join(containerd.paths.dir, 'state'),
    ]);
    expect(report.leaks!.target).toMatchObject({ name: 'containerd', pid: await containerd.pid() });
    // The checks saw the run's pods in flight and scanned the host each time.
    expect(report.leaks!.checks.some((k) => (k.pods ?? 0) > 0)).toBe(true);
    for (const k of report.leaks!.checks) {
      expect(k.processes).not.toBeNull();
      expect(k.mounts).not.toBeNull();
    }
  });

  it("a mount left under containerd's state dir during the run is found", async () => {
    const mountPoint = join(containerd.paths.dir, 'state', `churn-leak-test-${process.pid}`);
    const { code, stderr, report } = await auditedRun(async () => {
      await mkdir(mountPoint, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', 'churn-leak-test', mountPoint]);
      onTestFinished(async () => {
        execFileSync('umount', [mountPoint]);
        await rmdir(mountPoint);
      });
    });
    expect(code, stderr).toBe(1);
    expect(stderr).toContain('threshold(s) failed: leaked_mounts == 0');
    expect(report.leaks).toMatchObject({ pods: 0, containers: 0, processes: 0, mounts: 1 });
    expect(report.leaks!.mountList).toEqual([mountPoint]);
  });
});
