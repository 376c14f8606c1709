// The leak audit against a fake runtime (FakeDriver), a fake /proc and a fake clock: what it
// counts as left, what it leaves to the baseline, what a rescan takes away, its checks during
// the run, its timeout, and the figures thresholds read.
import { describe, expect, it } from 'vitest';
import type { RuntimeInfo } from '../../../src/drivers/driver.js';
import { runIdLabel } from '../../../src/load/cycle.js';
import { LeakAudit, leakFigures, type LeakHostProbe } from '../../../src/load/leak-audit.js';
import { taskMarker } from '../../../src/common/task-mark.js';
import type { TargetTrend } from '../../../src/metrics/trend.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FakeDriver } from '../../support/fake-driver.js';
import { FakeHostProc } from '../../support/fake-proc.js';

const runId = 'run1';
const socket = '/tmp/ctd/containerd.sock';
const info: RuntimeInfo = {
  runtimeName: 'containerd',
  runtimeVersion: '1.7',
  runtimeApiVersion: 'v1',
  runtimeHandler: '',
  host: { roots: ['/tmp/ctd/state'], shimNamespace: 'k8s.io' },
};

function shim(proc: FakeHostProc, pid: number, owner: string): void {
  proc.add(
    pid,
    'containerd-shim',
    {},
    {
      args: ['containerd-shim-runc-v2', '-namespace', 'k8s.io', '-id', owner, '-address', socket],
    },
  );
}

function setup(options: { listLatencyMs?: number } = {}) {
  const clock = new FakeClock();
  const driver = new FakeDriver({
    clock,
    ...(options.listLatencyMs !== undefined ? { latencyMs: { list: options.listLatencyMs } } : {}),
  });
  const proc = new FakeHostProc().add(100, 'containerd', {}, { sockets: [socket], mounts: [] });
  const probe: LeakHostProbe = {
    proc,
    targetPid: () => 100,
    readFile: () => Promise.resolve(undefined),
  };
  return { clock, driver, proc, probe };
}

const pod = (name: string, labels: Record<string, string>) => ({
  name,
  uid: name,
  namespace: 'churn',
  attempt: 0,
  labels,
  annotations: {},
  hostNetwork: true,
  logDirectory: '',
});

describe('LeakAudit', () => {
  it("counts what appeared during the run and stayed, not the baseline's nor what went away", async () => {
    const { clock, driver, proc, probe } = setup();
    // Already orphaned before the run: pre-existing, not this run's.
    shim(proc, 200, 'gone-before');
    const audit = new LeakAudit({ driver, runId, clock, host: probe, timeoutMs: 30_000 });
    await audit.begin(info);
    // During the run: a shim whose pod is live, one orphaned for good, one on its way out.
    const live = await driver.runPod(pod('other', { app: 'x' }));
    shim(proc, 201, live);
    shim(proc, 202, 'removed-pod');
    shim(proc, 203, 'removing-pod');
    proc.procs.get(100)!.mounts = ['/tmp/ctd/state/sandboxes/removed-pod/shm', '/elsewhere/x'];
    const pids = proc.pids.bind(proc);
    let scans = 0;
    proc.pids = () => {
      // The shim on its way out exits after the first end-of-run scan.
      if (++scans === 2) proc.remove(203);
      return pids();
    };
    const result = await audit.finish(clock.now());
    expect(result.processes).toBe(1);
    expect(result.processList).toEqual([
      { pid: 202, comm: 'containerd-shim', kind: 'shim', owner: 'removed-pod' },
    ]);
    expect(result.mounts).toBe(1);
    expect(result.mountList).toEqual(['/tmp/ctd/state/sandboxes/removed-pod/shm']);
    expect(result.preexisting).toEqual({ processes: 1, mounts: 0 });
    expect(result.roots).toEqual(['/tmp/ctd/state']);
    expect(result).toMatchObject({ pods: 0, containers: 0, notes: [], checks: [] });
  });

  it.each([
    [false, [150, 300]],
    [true, []],
  ])(
    "a core's task processes: the baseline reads environments for the mark unless it is new (%s)",
    async (newTaskMark, baselineEnvironReads) => {
      const { clock, driver, proc, probe } = setup();
      const core: RuntimeInfo = {
        ...info,
        host: { roots: [], taskMarkKey: 'k1', ...(newTaskMark ? { newTaskMark } : {}) },
      };
      proc.add(150, 'bash', {}, { environ: ['HOME=/root'] });
      if (!newTaskMark) proc.add(300, 'sleep', {}, { environ: [taskMarker('k1', 'old')] });
      const audit = new LeakAudit({ driver, runId, clock, host: probe, timeoutMs: 30_000 });
      await audit.begin(core);
      expect(proc.environReads).toEqual(baselineEnvironReads);
      // A task of the run whose container is gone: found by the end-of-run audit either way.
      proc.add(301, 'sleep', {}, { environ: [taskMarker('k1', 'gone')] });
      const result = await audit.finish(clock.now());
      expect(result.processList).toEqual([
        { pid: 301, comm: 'sleep', kind: 'task', owner: 'gone' },
      ]);
      expect(result.preexisting?.processes).toBe(newTaskMark ? 0 : 1);
    },
  );

  it("lists the run's pods and containers still there after the sweep, and no one else's", async () => {
    const { clock, driver } = setup();
    const ours = await driver.runPod(pod('p1', { [runIdLabel]: runId }));
    await driver.runPod(pod('p2', { [runIdLabel]: 'another-run' }));
    const c = await driver.createContainer(ours, pod('p1', {}), {
      name: 'c1',
      attempt: 0,
      image: 'busybox',
      command: [],
      args: [],
      workingDir: '',
      env: {},
      labels: { [runIdLabel]: runId },
      annotations: {},
      logPath: '',
    });
    const audit = new LeakAudit({ driver, runId, clock, timeoutMs: 30_000 });
    await audit.begin(info);
    const result = await audit.finish(clock.now());
    expect(result).toMatchObject({
      pods: 1,
      containers: 1,
      podIds: [ours],
      containerIds: [c],
      // No host probe: the host side is not measured.
      processes: null,
      mounts: null,
      preexisting: null,
    });
    expect(leakFigures(result)).toEqual({ leaked_pods: 1, leaked_containers: 1 });
  });

  it('checks during the run count what the run and the runtime hold, one check at a time', async () => {
    const { clock, driver, proc, probe } = setup();
    // There before the run: never counted.
    shim(proc, 200, 'before');
    const audit = new LeakAudit({ driver, runId, clock, host: probe, timeoutMs: 30_000 });
    await audit.begin(info);
    const ours = await driver.runPod(pod('p1', { [runIdLabel]: runId }));
    // A shim serving a live pod counts as held, as does one orphaned for good.
    shim(proc, 300, ours);
    shim(proc, 301, 'orphan');
    audit.check(10_000);
    // A second call while the first runs is dropped.
    audit.check(10_001);
    await clock.sleep(1);
    proc.remove(300);
    await driver.stopPod(ours);
    await driver.removePod(ours);
    proc.procs.get(100)!.mounts = ['/tmp/ctd/state/x/shm'];
    audit.check(20_000);
    const result = await audit.finish(clock.now());
    expect(result.checks).toEqual([
      { atMs: 10_000, pods: 1, containers: 0, processes: 2, mounts: 0 },
      { atMs: 20_000, pods: 0, containers: 0, processes: 1, mounts: 1 },
    ]);
    // The end judges: the orphaned shim and the mount of no live object are leaks.
    expect(result).toMatchObject({ pods: 0, processes: 1, mounts: 1 });
    expect(result.processList.map((p) => p.pid)).toEqual([301]);
  });

  it("says why the host was not checked when the daemon's process is unknown", async () => {
    const { clock, driver, probe } = setup();
    const audit = new LeakAudit({
      driver,
      runId,
      clock,
      host: { ...probe, targetPid: () => undefined },
      timeoutMs: 30_000,
    });
    await audit.begin(info);
    const result = await audit.finish(clock.now());
    expect(result.processes).toBeNull();
    expect(result.notes).toEqual([
      "the runtime daemon's process is unknown (give --target-pid or --target-process): processes and mounts were not checked",
    ]);
  });

  it('gives up at leaks.timeout and says what it could not measure', async () => {
    const { clock, driver } = setup({ listLatencyMs: 60_000 });
    const audit = new LeakAudit({ driver, runId, clock, timeoutMs: 5000 });
    const t0 = clock.now();
    const result = await audit.finish(t0);
    expect(clock.now() - t0).toBe(5000);
    expect(result).toMatchObject({ pods: null, containers: null });
    expect(result.notes).toEqual([
      'the end-of-run audit could not be completed: timed out after 5s (leaks.timeout); what it did not reach is not measured',
    ]);
    expect(leakFigures(result)).toEqual({});
  });

  it("takes the target's trend from the end of warm-up", async () => {
    const { clock, driver } = setup();
    const trend: TargetTrend = {
      name: 'containerd',
      pid: 100,
      fromMs: 1000,
      toMs: 61_000,
      points: 61,
      rssBytes: { baseline: 100, last: 101, slopePerHour: 60, slopePctPerHour: 60 },
      openFds: null,
      threads: { baseline: 10, last: 10, slopePerHour: 0, slopePctPerHour: 0 },
    };
    const asked: number[] = [];
    const audit = new LeakAudit({
      driver,
      runId,
      clock,
      timeoutMs: 30_000,
      targetTrend: (sinceMs) => {
        asked.push(sinceMs);
        return trend;
      },
    });
    const result = await audit.finish(4321);
    expect(asked).toEqual([4321]);
    expect(result.target).toBe(trend);
    expect(leakFigures(result)).toEqual({
      leaked_pods: 0,
      leaked_containers: 0,
      target_rss_slope: 60,
      target_threads_slope: 0,
    });
  });
});
