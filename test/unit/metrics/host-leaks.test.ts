// The host side of the leak audit against a fake /proc: which shims, task processes, zombies
// and mounts are the daemon's, which of them belong to no live object, and what a baseline and
// a second scan take away. Never the real /proc.
import { describe, expect, it } from 'vitest';
import { taskMarker } from '../../../src/common/task-mark.js';
import {
  mountsUnder,
  newSince,
  orphansIn,
  persisting,
  scanHost,
  type HostOrphans,
} from '../../../src/metrics/host-leaks.js';
import { daemonRoots, tomlString } from '../../../src/metrics/runtime-roots.js';
import { FakeHostProc } from '../../support/fake-proc.js';

const socket = '/tmp/ctd/containerd.sock';
const shimArgs = (namespace: string, id: string, address = socket): string[] => [
  '/usr/bin/containerd-shim-runc-v2',
  '-namespace',
  namespace,
  '-id',
  id,
  '-address',
  address,
];

/** A containerd (pid 100) with shims, zombies and mounts, and other processes around it. */
function containerdHost(): FakeHostProc {
  return (
    new FakeHostProc()
      .add(
        100,
        'containerd',
        {},
        {
          sockets: [socket],
          mounts: [
            '/',
            '/proc',
            '/tmp/ctd/root',
            '/tmp/ctd/state/io.containerd.runtime.v2.task/k8s.io/ctrA/rootfs',
            '/tmp/ctd/state/io.containerd.grpc.v1.cri/sandboxes/podB/shm',
            '/tmp/ctd/state/io.containerd.grpc.v1.cri/sandboxes/pod C/shm',
          ],
        },
      )
      // Ours: re-parented to init, found by its -address.
      .add(200, 'containerd-shim', {}, { args: shimArgs('k8s.io', 'podA') })
      .add(201, 'containerd-shim', {}, { args: shimArgs('k8s.io', 'podB') })
      // Another containerd's shim, and one of ours in another namespace.
      .add(202, 'containerd-shim', {}, { args: shimArgs('k8s.io', 'podX', '/run/other.sock') })
      .add(203, 'containerd-shim', {}, { args: shimArgs('moby', 'm1') })
      // A zombie of a shim (even of another namespace's) is the daemon's to have reaped.
      .add(300, 'sleep', { state: 'Z', ppid: 203 })
      .add(301, 'sh', { state: 'Z', ppid: 1 })
      // The kernel's threads are never read.
      .add(2, 'kthreadd', { ppid: 0 })
      .add(3, 'kworker/0:1', { ppid: 2 })
  );
}

describe('scanHost', () => {
  it("finds the daemon's shims (by -address or parent), their zombies and mounts under its roots", async () => {
    const proc = containerdHost().add(204, 'containerd-shim', { ppid: 100 }, { args: ['x'] });
    const scan = await scanHost(proc, {
      targetPid: 100,
      roots: ['/tmp/ctd/root', '/tmp/ctd/state/'],
      shimNamespace: 'k8s.io',
    });
    expect(scan.processes.map((p) => [p.pid, p.kind, p.owner])).toEqual([
      [200, 'shim', 'podA'],
      [201, 'shim', 'podB'],
      [204, 'shim', undefined],
      [300, 'zombie', undefined],
    ]);
    // Strictly under a root: the root itself is not the containers'.
    expect(scan.mounts).toEqual([
      '/tmp/ctd/state/io.containerd.grpc.v1.cri/sandboxes/pod C/shm',
      '/tmp/ctd/state/io.containerd.grpc.v1.cri/sandboxes/podB/shm',
      '/tmp/ctd/state/io.containerd.runtime.v2.task/k8s.io/ctrA/rootfs',
    ]);
    expect(proc.environReads).toEqual([]);
  });

  it("finds the built-in core's task processes by its mark, not another core's", async () => {
    const key = 'aaaabbbbccccdddd';
    const proc = new FakeHostProc()
      .add(500, 'node', {}, {})
      .add(600, 'sleep', { ppid: 500 }, { environ: ['PATH=/bin', taskMarker(key, 'c1')] })
      .add(601, 'sleep', { ppid: 1 }, { environ: [taskMarker(key, 'c2')] })
      .add(602, 'sleep', { ppid: 1 }, { environ: [taskMarker('eeeeffff00001111', 'c3')] })
      .add(603, 'sleep', { state: 'Z', ppid: 500 })
      .add(2, 'kthreadd', { ppid: 0 })
      .add(3, 'kworker/0:1', { ppid: 2 });
    const scan = await scanHost(proc, { targetPid: 500, roots: ['/tmp/core'], taskMarkKey: key });
    expect(scan.processes.map((p) => [p.pid, p.kind, p.owner])).toEqual([
      [600, 'task', 'c1'],
      [601, 'task', 'c2'],
      [603, 'zombie', undefined],
    ]);
    // No mount table read: mounts not measured.
    expect(scan.mounts).toBeUndefined();
    expect(proc.environReads).not.toContain(3);
    expect(proc.environReads).not.toContain(500);

    const orphans = orphansIn(scan, new Set(['c1']));
    expect(orphans.processes.map((p) => p.pid)).toEqual([601, 603]);
  });

  it('refuses when the daemon is not running', async () => {
    const proc = new FakeHostProc().add(100, 'containerd', { state: 'Z' });
    await expect(scanHost(proc, { targetPid: 100, roots: [] })).rejects.toThrow(
      'the runtime daemon (pid 100) is not running',
    );
    await expect(scanHost(proc, { targetPid: 7, roots: [] })).rejects.toThrow('(pid 7)');
  });
});

describe('orphans', () => {
  it('keeps what no live pod or container accounts for', async () => {
    const scan = await scanHost(containerdHost(), {
      targetPid: 100,
      roots: ['/tmp/ctd/state'],
      shimNamespace: 'k8s.io',
    });
    const orphans = orphansIn(scan, new Set(['podA', 'ctrA']));
    expect(orphans.processes.map((p) => [p.pid, p.kind])).toEqual([
      [201, 'shim'],
      [300, 'zombie'],
    ]);
    expect(orphans.mounts).toEqual([
      '/tmp/ctd/state/io.containerd.grpc.v1.cri/sandboxes/pod C/shm',
      '/tmp/ctd/state/io.containerd.grpc.v1.cri/sandboxes/podB/shm',
    ]);
  });

  it('takes away what the baseline had, and keeps only what a second scan found again', () => {
    const p = (pid: number, startTime = String(pid * 10)) => ({
      pid,
      startTime,
      comm: 'containerd-shim',
      kind: 'shim' as const,
      owner: `o${pid}`,
    });
    const baseline: HostOrphans = { processes: [p(1)], mounts: ['/r/a'] };
    // Pid 1 again but started anew: another process, a new orphan.
    const now: HostOrphans = { processes: [p(1), p(1, '99'), p(2)], mounts: ['/r/a', '/r/b'] };
    expect(newSince(now, baseline)).toEqual({ processes: [p(1, '99'), p(2)], mounts: ['/r/b'] });
    const later: HostOrphans = { processes: [p(2), p(3)], mounts: undefined };
    expect(persisting(later, now)).toEqual({ processes: [p(2)], mounts: undefined });
  });

  it('mounts under a root: strictly inside, trailing slashes ignored, each once', () => {
    expect(mountsUnder(['/a', '/a/b', '/a/b', '/ab/c', '/x/y'], ['/a/', '/x/y', '/', ''])).toEqual([
      '/a/b',
    ]);
  });
});

describe('daemonRoots', () => {
  const files: Record<string, string> = {
    '/tmp/ctd/config.toml': [
      '# private containerd',
      'version = 2',
      'root = "/tmp/ctd/root"',
      "state = '/tmp/ctd/state'",
      '[plugins."io.containerd.grpc.v1.cri"]',
      '  root = "/not/this"',
    ].join('\n'),
    '/etc/crio/crio.conf': '[crio]\nroot = "/srv/crio/root"\n[crio.runtime]\nrunroot = "/no"\n',
  };
  const read = (path: string): Promise<string | undefined> => Promise.resolve(files[path]);

  it.each([
    [
      'containerd',
      ['containerd', '--config', '/tmp/ctd/config.toml'],
      ['/tmp/ctd/root', '/tmp/ctd/state'],
    ],
    [
      'containerd',
      ['containerd', '-c', '/tmp/ctd/config.toml', '--state=/run/s'],
      ['/tmp/ctd/root', '/run/s'],
    ],
    ['containerd', ['containerd'], ['/var/lib/containerd', '/run/containerd']],
    ['crio', ['crio'], ['/srv/crio/root', '/run/containers/storage']],
    ['crio', ['crio', '--runroot', '/run/r'], ['/srv/crio/root', '/run/r']],
    ['node', ['node', 'core.js'], []],
  ])('%s %j → %j', async (comm, args, roots) => {
    expect(await daemonRoots(comm, args, read)).toEqual(roots);
  });

  it('reads the TOML strings daemon configs use', () => {
    const text = 'a = "x\\"y"\n[t]\nb = \'z\'\n[[u]]\nc = "w"\n';
    expect(tomlString(text, '', 'a')).toBe('x"y');
    expect(tomlString(text, 't', 'b')).toBe('z');
    expect(tomlString(text, 'u', 'c')).toBe('w');
    expect(tomlString(text, '', 'b')).toBeUndefined();
  });
});
