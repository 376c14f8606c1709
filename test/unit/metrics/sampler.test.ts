// The resource sampler against a fake /proc (a test double of the kernel's files) and a fake
// clock: which process is the target, when it counts as gone, which shims are its own.
import { describe, expect, it } from 'vitest';
import { isChurnError } from '../../../src/common/errors.js';
import type { HarnessProbe } from '../../../src/metrics/process-metrics.js';
import type { HarnessSample, ResourceSample } from '../../../src/metrics/resource-sample.js';
import {
  describeTargetPid,
  findProcessesByName,
  fullScanEvery,
  resolveTargetProcess,
  ResourceSampler,
} from '../../../src/metrics/sampler.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FakeHostProc } from '../../support/fake-proc.js';

const harnessSample: HarnessSample = {
  cpuSeconds: 1,
  rssBytes: 2,
  heapUsedBytes: 3,
  openFds: 4,
  eventLoopLagP99Seconds: 0.001,
  eventLoopLagMaxSeconds: 0.002,
  eventLoopLagSpanP99Seconds: 0.002,
  eventLoopUtilization: 0.1,
};
const harness: HarnessProbe = {
  sample: () => Promise.resolve(harnessSample),
  run: () => ({ lagP99Ms: 2, lagMaxMs: 2, utilization: 0.1, cpuSeconds: 1 }),
  restartRun: () => undefined,
  close: () => undefined,
};

function sampler(
  proc: FakeHostProc,
  onSample?: (s: ResourceSample) => void,
): { s: ResourceSampler; clock: FakeClock } {
  const clock = new FakeClock({ startMs: 0, auto: false });
  const s = new ResourceSampler({ clock, proc, harness, ...(onSample ? { onSample } : {}) });
  return { s, clock };
}

describe('ResourceSampler: the target', () => {
  it('reads CPU seconds, memory, descriptors and threads of a pid', async () => {
    const proc = new FakeHostProc();
    proc.add(100, 'runtimed', { cpuTicks: 250, rssPages: 1000, threads: 12 }, { fds: 40 });
    const { s } = sampler(proc);
    s.setTarget({ source: 'pid', pid: 100, name: 'runtimed' });
    const sample = await s.sample();
    expect(sample.target).toEqual({
      name: 'runtimed',
      pid: 100,
      up: true,
      cpuSeconds: 2.5,
      rssBytes: 4_096_000,
      openFds: 40,
      threads: 12,
      shims: 0,
      shimRssBytes: 0,
      totalCpuSeconds: 2.5,
    });
    expect(sample.harness).toEqual(harnessSample);
    // Neither containerd nor CRI-O: no /proc scan for shims.
    expect(proc.pidsCalls).toBe(0);
  });

  it('no target yet: samples churn only', async () => {
    const { s } = sampler(new FakeHostProc());
    expect((await s.sample()).target).toBeUndefined();
  });

  it('a fixed pid reused by another process counts as gone, not as its figures', async () => {
    const proc = new FakeHostProc();
    proc.add(100, 'crio', { cpuTicks: 100 });
    const { s } = sampler(proc);
    s.setTarget({ source: 'pid', pid: 100, name: 'crio' });
    expect((await s.sample()).target?.up).toBe(true);
    proc.add(100, 'crio', { cpuTicks: 5, startTime: '99999' }); // same pid, another process
    const gone = (await s.sample()).target!;
    expect(gone).toMatchObject({ up: false, cpuSeconds: undefined, rssBytes: undefined });
    proc.procs.delete(100);
    proc.add(200, 'crio');
    expect((await s.sample()).target?.up).toBe(false);
  });

  it('a zombie is gone', async () => {
    const proc = new FakeHostProc();
    proc.add(100, 'crio', { state: 'Z' });
    const { s } = sampler(proc);
    s.setTarget({ source: 'pid', pid: 100, name: 'crio' });
    expect((await s.sample()).target?.up).toBe(false);
  });

  it('a named target is found again after it restarts under another pid', async () => {
    const proc = new FakeHostProc();
    proc.add(100, 'containerd', { cpuTicks: 500 });
    const { s } = sampler(proc);
    s.setTarget({ source: 'process', pid: 100, name: 'containerd' });
    expect((await s.sample()).target).toMatchObject({ pid: 100, up: true, cpuSeconds: 5 });
    proc.procs.delete(100);
    expect((await s.sample()).target).toMatchObject({ up: false });
    proc.add(300, 'containerd', { cpuTicks: 10 });
    expect((await s.sample()).target).toMatchObject({ pid: 300, up: true, cpuSeconds: 0.1 });
    expect(s.series().points.map((p) => p.targetPid)).toEqual([100, 100, 300]);
  });

  it("a driver's daemon is found again by its comm, unless several processes have it", async () => {
    const proc = new FakeHostProc();
    proc.add(100, 'churn');
    const { s } = sampler(proc);
    s.setTarget({ source: 'driver', pid: 100, name: 'churn-core' });
    expect((await s.sample()).target).toMatchObject({ name: 'churn-core', up: true });
    proc.procs.delete(100);
    proc.add(101, 'churn');
    proc.add(102, 'churn');
    expect((await s.sample()).target?.up).toBe(false);
    proc.procs.delete(102);
    expect((await s.sample()).target).toMatchObject({ pid: 101, up: true });
  });
});

describe('ResourceSampler: containerd shims', () => {
  it('counts live shims that are its children or serve its socket, and adds their memory', async () => {
    const proc = new FakeHostProc();
    const sock = '/run/containerd/containerd.sock';
    proc.add(10, 'containerd', { rssPages: 100 }, { sockets: [sock, `${sock}.ttrpc`], fds: 9 });
    const shimArgs = (address: string): string[] => [
      '/usr/bin/containerd-shim-runc-v2',
      '-namespace',
      'k8s.io',
      '-address',
      address,
    ];
    proc.add(20, 'containerd-shim', { ppid: 1, rssPages: 10 }, { args: shimArgs(sock) }); // daemonized
    proc.add(21, 'containerd-shim', { ppid: 10, rssPages: 20 }, { args: [] }); // still a child
    proc.add(22, 'containerd-shim', { ppid: 1, rssPages: 40 }, { args: shimArgs('/other.sock') });
    proc.add(23, 'containerd-shim', { ppid: 1, state: 'Z' }, { args: shimArgs(sock) });
    proc.add(24, 'runc', { ppid: 20, rssPages: 80 });
    const { s } = sampler(proc);
    s.setTarget({ source: 'driver', pid: 10, name: 'containerd' });
    expect((await s.sample()).target).toMatchObject({
      shims: 2,
      shimRssBytes: 30 * 4096,
      rssBytes: 100 * 4096,
      openFds: 9,
    });
    proc.procs.delete(20);
    proc.add(25, 'containerd-shim', { ppid: 1, rssPages: 1 }, { args: shimArgs(sock) });
    expect((await s.sample()).target).toMatchObject({ shims: 2, shimRssBytes: 21 * 4096 });
  });

  it('without its sockets, only children count', async () => {
    const proc = new FakeHostProc();
    proc.add(10, 'containerd');
    proc.add(20, 'containerd-shim', { ppid: 1 }, { args: ['-address', '/x.sock'] });
    proc.add(21, 'containerd-shim', { ppid: 10 });
    const { s } = sampler(proc);
    s.setTarget({ source: 'pid', pid: 10, name: 'containerd' });
    expect((await s.sample()).target?.shims).toBe(1);
  });
});

describe('ResourceSampler: CRI-O conmons', () => {
  it("counts live conmons that are its children or use its socket's directory", async () => {
    const proc = new FakeHostProc();
    proc.add(10, 'crio', { rssPages: 100 }, { sockets: ['/var/run/crio/crio.sock'] });
    const conmonArgs = (socketDir: string): string[] => [
      '/usr/bin/conmon',
      '-c',
      'abc',
      '--exit-dir',
      '/var/run/crio/exits',
      '--socket-dir-path',
      socketDir,
    ];
    proc.add(20, 'conmon', { ppid: 1, rssPages: 10 }, { args: conmonArgs('/var/run/crio') });
    proc.add(21, 'conmon', { ppid: 10, rssPages: 20 }, { args: [] }); // before it daemonizes
    proc.add(22, 'conmon', { ppid: 1, rssPages: 40 }, { args: conmonArgs('/run/other') }); // podman's
    proc.add(23, 'conmon', { ppid: 1, state: 'Z' }, { args: conmonArgs('/var/run/crio') });
    proc.add(
      24,
      'containerd-shim',
      { ppid: 10 },
      { args: ['-address', '/var/run/crio/crio.sock'] },
    );
    const { s } = sampler(proc);
    s.setTarget({ source: 'process', pid: 10, name: 'crio' });
    expect((await s.sample()).target).toMatchObject({ shims: 2, shimRssBytes: 30 * 4096 });
  });
});

describe('ResourceSampler: the shim scan reads what changes', () => {
  const sock = '/run/containerd/containerd.sock';
  const shimArgs = ['containerd-shim-runc-v2', '-address', sock];

  function host(): FakeHostProc {
    const proc = new FakeHostProc();
    proc.add(10, 'containerd', {}, { sockets: [sock] });
    proc.add(11, 'sshd');
    proc.add(12, 'bash');
    proc.add(20, 'containerd-shim', { rssPages: 5 }, { args: shimArgs });
    return proc;
  }

  it('reads every process until it has been seen twice, then only shims and new pids', async () => {
    const proc = host();
    const { s } = sampler(proc);
    s.setTarget({ source: 'driver', pid: 10, name: 'containerd' });
    await s.sample();
    expect(proc.takeStatReads()).toEqual([10, 11, 12, 20]);
    await s.sample();
    expect(proc.takeStatReads()).toEqual([10, 11, 12, 20]);
    // Settled: the target (its own read) and the shim only.
    expect((await s.sample()).target?.shims).toBe(1);
    expect(proc.takeStatReads()).toEqual([10, 20]);
    proc.add(30, 'runc');
    proc.add(31, 'containerd-shim', { rssPages: 7 }, { args: shimArgs });
    expect((await s.sample()).target).toMatchObject({ shims: 2, shimRssBytes: 12 * 4096 });
    expect(proc.takeStatReads()).toEqual([10, 20, 30, 31]);
  });

  it('follows a new process from fork to exec, and a pid reused by another process', async () => {
    const proc = host();
    const { s } = sampler(proc);
    s.setTarget({ source: 'driver', pid: 10, name: 'containerd' });
    await s.sample();
    await s.sample();
    // Forked by containerd, not yet exec'd: it still has containerd's comm.
    proc.add(40, 'containerd', { ppid: 10, startTime: '4000' });
    expect((await s.sample()).target?.shims).toBe(1);
    proc.add(40, 'containerd-shim', { ppid: 10, startTime: '4000' });
    expect((await s.sample()).target?.shims).toBe(2);
    // sshd (settled) exits and its pid comes back as a shim: read afresh, counted at once.
    proc.procs.delete(11);
    expect((await s.sample()).target?.shims).toBe(2);
    proc.add(11, 'containerd-shim', { startTime: '9999' }, { args: shimArgs });
    expect((await s.sample()).target?.shims).toBe(3);
  });

  it('a settled process that execs a shim later is found by the next full scan', async () => {
    const proc = host();
    const { s } = sampler(proc);
    s.setTarget({ source: 'driver', pid: 10, name: 'containerd' });
    await s.sample();
    await s.sample();
    proc.add(12, 'containerd-shim', { startTime: '120' }, { args: shimArgs }); // same process
    let shims: (number | undefined)[] = [];
    for (let i = 2; i < fullScanEvery; i++) shims.push((await s.sample()).target?.shims);
    expect(shims.every((n) => n === 1)).toBe(true);
    proc.takeStatReads();
    shims = [(await s.sample()).target?.shims];
    expect(proc.takeStatReads()).toEqual([10, 11, 12, 20]);
    expect(shims).toEqual([2]);
  });
});

describe('ResourceSampler: the loop', () => {
  it('samples at once, every interval, and once more when stopped', async () => {
    const proc = new FakeHostProc();
    proc.add(100, 'crio');
    const seen: number[] = [];
    const { s, clock } = sampler(proc, (sample) => seen.push(sample.atMs));
    s.setTarget({ source: 'pid', pid: 100, name: 'crio' });
    s.start();
    await clock.advance(3500);
    await s.stop();
    expect(seen).toEqual([0, 1000, 2000, 3000, 3500]);
    expect(s.series().points.map((p) => p.atMs)).toEqual([0, 1000, 2000, 3000, 3500]);
    expect(s.latest?.atMs).toBe(3500);
    await s.stop();
    expect(seen).toHaveLength(5);
  });
});

describe('finding the target by name', () => {
  it('matches comm as the kernel cuts it (15 bytes), oldest first, never churn itself', async () => {
    const proc = new FakeHostProc();
    proc.add(300, 'containerd', { startTime: '30' });
    proc.add(200, 'containerd', { startTime: '900' });
    proc.add(400, 'containerd', { state: 'Z' });
    proc.add(500, 'containerd-shim');
    proc.add(process.pid, 'containerd');
    expect(await findProcessesByName('containerd', proc)).toEqual([300, 200]);
    expect(await findProcessesByName('containerd-shim-runc-v2', proc)).toEqual([500]);
  });

  it('--target-process wants exactly one match; --target-pid a live process', async () => {
    const proc = new FakeHostProc();
    proc.add(300, 'containerd');
    proc.add(301, 'crio');
    proc.add(302, 'crio');
    proc.add(303, 'conmon', { state: 'Z' });
    expect(await resolveTargetProcess('containerd', proc)).toBe(300);
    const none = await resolveTargetProcess('dockerd', proc).catch((e: unknown) => e);
    expect(isChurnError(none, 'USAGE')).toBe(true);
    expect((none as Error).message).toMatch(
      /--target-process dockerd: no running process is named "dockerd"/,
    );
    const several = await resolveTargetProcess('crio', proc).catch((e: unknown) => e);
    expect((several as Error).message).toMatch(
      /2 processes have that name \(pids 301, 302\); choose one with --target-pid/,
    );
    expect(await describeTargetPid(301, proc)).toBe('crio');
    const zombie = await describeTargetPid(303, proc).catch((e: unknown) => e);
    expect(isChurnError(zombie, 'USAGE')).toBe(true);
    expect((zombie as Error).message).toBe('--target-pid 303: no such process is running');
  });
});
