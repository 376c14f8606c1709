// The runc executor specifically: pod namespaces shared through the pause process, logs, exec
// timeouts and nothing left behind (runc state, bundles, cgroups, processes).
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildBusyboxArchive } from '../../scripts/oci-image.js';
import { isChurnError } from '../../src/common/errors.js';
import { systemClock } from '../../src/common/clock.js';
import { RuncExecutor } from '../../src/runtime/executors/runc-executor.js';
import { RuntimeService } from '../../src/runtime/service.js';
import {
  containerConfig,
  eventually,
  openCore,
  pidAlive,
  podConfig,
  processesWithMarker,
  tempDir,
} from '../support/core-fixtures.js';
import { runcAvailable } from '../support/executors.js';

const skip = !runcAvailable() && process.env.CI !== 'true';

describe.skipIf(skip)('executor runc', () => {
  const open = (imagesDir?: string): Promise<RuntimeService> =>
    openCore({ executor: 'runc', imagesDir });

  it("shares the pod sandbox's ipc namespace, the host's uts with host network, gives each container its own pid namespace", async () => {
    const c = await open();
    const pod = podConfig({ hostname: 'sandboxed' });
    const podId = await c.runPodSandbox(pod, '');
    const a = await c.createContainer(podId, containerConfig({ name: 'a' }), pod);
    const b = await c.createContainer(podId, containerConfig({ name: 'b' }), pod);
    await c.startContainer(a);
    await c.startContainer(b);
    const [pa, pb] = [(await c.containerStatus(a)).pid, (await c.containerStatus(b)).pid];
    const ns = (pid: number, type: string): string => readlinkSync(`/proc/${pid}/ns/${type}`);
    expect(ns(pa, 'uts')).toBe(ns(pb, 'uts'));
    expect(ns(pa, 'ipc')).toBe(ns(pb, 'ipc'));
    expect(ns(pa, 'ipc')).not.toBe(ns(process.pid, 'ipc'));
    expect(ns(pa, 'uts')).toBe(ns(process.pid, 'uts')); // host network: the host's, as containerd
    expect(ns(pa, 'pid')).not.toBe(ns(pb, 'pid'));
    expect(ns(pa, 'net')).toBe(ns(process.pid, 'net')); // host network
    const hostname = await c.execSync(a, ['hostname'], 10);
    expect(hostname.stdout.toString().trim()).toBe(osHostname());
    const ps = await c.execSync(a, ['sh', '-c', 'echo $$'], 10);
    expect(Number(ps.stdout.toString().trim())).toBeGreaterThan(1); // pid inside its own namespace
    await c.removePodSandbox(podId);
    expect(pidAlive(pa)).toBe(false);
    expect(pidAlive(pb)).toBe(false);
  });

  it('gives a pod without host network its own network namespace, loopback only, shared by its containers', async () => {
    const c = await open();
    const pod = podConfig({ networkMode: 'POD', hostname: 'sandboxed' });
    const podId = await c.runPodSandbox(pod, '');
    const a = await c.createContainer(podId, containerConfig({ name: 'a' }), pod);
    const b = await c.createContainer(podId, containerConfig({ name: 'b' }), pod);
    await c.startContainer(a);
    await c.startContainer(b);
    const [pa, pb] = [(await c.containerStatus(a)).pid, (await c.containerStatus(b)).pid];
    const ns = (pid: number): string => readlinkSync(`/proc/${pid}/ns/net`);
    expect(ns(pa)).not.toBe(ns(process.pid));
    expect(ns(pa)).toBe(ns(pb));
    const links = await c.execSync(a, ['ls', '/sys/class/net'], 10);
    expect(links.stdout.toString().trim().split(/\s+/)).toEqual(['lo']);
    const lo = await c.execSync(a, ['cat', '/sys/class/net/lo/flags'], 10);
    expect(Number(lo.stdout.toString().trim()) & 1).toBe(1); // IFF_UP
    const hostname = await c.execSync(b, ['hostname'], 10);
    expect(hostname.stdout.toString().trim()).toBe('sandboxed'); // the pod's own uts
    await c.removePodSandbox(podId);
  });

  it('runs an image rootfs read-only when readonlyRootfs asks, and logs in CRI format', async () => {
    const archives = await tempDir();
    await buildBusyboxArchive(join(archives, 'bb.tar'), ['busybox:runc']);
    const c = await open(archives);
    await c.pullImage('busybox:runc');
    const logDir = await tempDir();
    const pod = podConfig({ logDirectory: logDir });
    const podId = await c.runPodSandbox(pod, '');
    const script =
      'touch /ro 2>/dev/null && echo rw || echo ro; touch /tmp/x 2>/dev/null || echo tmp-ro; echo err >&2';
    const id = await c.createContainer(
      podId,
      containerConfig({
        image: 'busybox:runc',
        command: ['sh', '-c', script],
        logPath: 'c.log',
        readonlyRootfs: true,
      }),
      pod,
    );
    await c.startContainer(id);
    expect(
      await eventually(async () => (await c.containerStatus(id)).state === 'EXITED', 30_000),
    ).toBe(true);
    expect(await c.containerStatus(id)).toMatchObject({ exitCode: 0, reason: 'Completed' });
    const lines = (await readFile(join(logDir, 'c.log'), 'utf8')).trim().split('\n');
    const body = lines.map((l) => l.split(' ').slice(1).join(' '));
    expect(body.filter((l) => l.startsWith('stdout'))).toEqual(['stdout F ro', 'stdout F tmp-ro']);
    expect(body.filter((l) => l.startsWith('stderr'))).toEqual(['stderr F err']);
  });

  it('runs a container as the user, groups and privileges its config asks for, as containerd does', async () => {
    const c = await open();
    const pod = podConfig({ privileged: true });
    const podId = await c.runPodSandbox(pod, '');
    const statusOf = async (
      config: Parameters<typeof containerConfig>[0],
    ): Promise<Record<string, string>> => {
      const id = await c.createContainer(podId, containerConfig(config), pod);
      await c.startContainer(id);
      const r = await c.execSync(id, ['cat', '/proc/self/status'], 10);
      const lines = r.stdout.toString().trim().split('\n');
      return Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
      );
    };
    const plain = await statusOf({ name: 'plain' });
    expect(plain.Uid?.split(/\s+/)[0]).toBe('0');
    expect(plain.CapBnd).toBe('00000000a80425fb'); // containerd's default 14
    expect(plain.NoNewPrivs).toBe('0');
    const user = await statusOf({
      name: 'user',
      runAsUser: 54321,
      runAsGroup: 54322,
      supplementalGroups: [1234],
      noNewPrivs: true,
      dropCapabilities: ['ALL'],
    });
    expect([user.Uid?.split(/\s+/)[0], user.Gid?.split(/\s+/)[0], user.Groups]).toEqual([
      '54321',
      '54322',
      '1234 54322',
    ]);
    expect([user.CapBnd, user.NoNewPrivs]).toEqual(['0000000000000000', '1']);
    const ownCaps = /^CapEff:\s*(\S+)/m.exec(await readFile('/proc/self/status', 'utf8'))?.[1];
    const privileged = await statusOf({ name: 'privileged', privileged: true });
    expect(privileged.CapBnd).toBe(ownCaps);
    const refused: unknown = await c
      .createContainer(
        podId,
        containerConfig({ name: 'refused', privileged: true }),
        podConfig({ privileged: false }),
      )
      .catch((e: unknown) => e);
    expect(isChurnError(refused, 'INVALID_ARGUMENT'), String(refused)).toBe(true);
    const id = await c.createContainer(
      podId,
      containerConfig({ name: 'ro', runAsUser: 54321, readonlyPaths: ['/tmp'] }),
      pod,
    );
    await c.startContainer(id);
    const touch = await c.execSync(id, ['sh', '-c', 'touch /tmp/x 2>&1'], 10);
    expect(touch.exitCode).not.toBe(0);
    expect(touch.stdout.toString()).toContain('Read-only file system');
    await c.removePodSandbox(podId);
  });

  it('kills a timed-out exec inside the container', async () => {
    const c = await open();
    const pod = podConfig();
    const podId = await c.runPodSandbox(pod, '');
    const id = await c.createContainer(podId, containerConfig(), pod);
    await c.startContainer(id);
    const marker = `3597.${process.pid}3`;
    const err: unknown = await c.execSync(id, ['sleep', marker], 1).catch((e: unknown) => e);
    expect(isChurnError(err, 'DEADLINE_EXCEEDED')).toBe(true);
    expect(await eventually(() => processesWithMarker(marker).length === 0)).toBe(true);
    const r = await c.execSync(id, ['sh', '-c', 'printf out; printf err >&2; exit 5'], 10);
    expect([r.stdout.toString(), r.stderr.toString(), r.exitCode]).toEqual(['out', 'err', 5]);
  });

  it('leaves no container, bundle, cgroup or process behind after close', async () => {
    const c = await open();
    const pids: number[] = [];
    const runcIds: string[] = [];
    for (let i = 0; i < 2; i++) {
      const pod = podConfig();
      const podId = await c.runPodSandbox(pod, '');
      const id = await c.createContainer(podId, containerConfig(), pod);
      await c.startContainer(id);
      pids.push((await c.containerStatus(id)).pid);
      runcIds.push(id, `pause-${podId}`);
    }
    const stateDir = c.options.stateDir;
    const runcRoot = join(stateDir, 'runc');
    const listed = (): unknown[] =>
      (JSON.parse(
        execFileSync('runc', ['--root', runcRoot, 'list', '--format', 'json'], {
          encoding: 'utf8',
        }),
      ) as unknown[] | null) ?? [];
    expect(listed().length).toBe(4); // two pauses, two containers
    await c.close();
    for (const pid of pids) expect(pidAlive(pid)).toBe(false);
    expect(listed()).toEqual([]);
    expect(readdirSync(join(stateDir, 'runc-bundles'))).toEqual([]);
    for (const id of runcIds) expect(existsSync(`/sys/fs/cgroup/memory/churn/${id}`)).toBe(false);

    // A restarted core finds the pods NOTREADY: their sandboxes went with the old core.
    const restarted = await openCore({ stateDir, executor: 'runc' });
    expect((await restarted.listPodSandbox()).map((p) => p.state)).toEqual([
      'NOTREADY',
      'NOTREADY',
    ]);
  });

  it('opens the executor of a runtime handler once when the first pods ask for it together', async () => {
    // A runc that records every `--version` (what RuncExecutor.open runs, once per opening).
    const dir = await tempDir();
    const opened = join(dir, 'opened');
    const runcPath = join(dir, 'runc');
    await writeFile(opened, '');
    await writeFile(
      runcPath,
      `#!/bin/sh\n[ "$1" = --version ] && echo open >> '${opened}'\nexec runc "$@"\n`,
    );
    await chmod(runcPath, 0o755);
    const c = await openCore({ executor: 'process', runcPath });
    const pods = Array.from({ length: 4 }, () => podConfig());
    const podIds = await Promise.all(pods.map((pod) => c.runPodSandbox(pod, 'runc')));
    const ids = await Promise.all(
      podIds.map(async (podId, i) => {
        const id = await c.createContainer(podId, containerConfig(), pods[i]!);
        await c.startContainer(id);
        return id;
      }),
    );
    expect((await readFile(opened, 'utf8')).trim().split('\n')).toEqual(['open']);
    const pids = await Promise.all(ids.map(async (id) => (await c.containerStatus(id)).pid));
    const pausePids = podIds.flatMap((podId) => processesWithMarker(`pause-${podId}`));
    expect(pausePids.length).toBeGreaterThanOrEqual(4); // runc run of each pod's sandbox
    await c.close();
    for (const pid of [...pids, ...pausePids]) {
      expect(await eventually(() => !pidAlive(pid))).toBe(true);
    }
  });

  it('prepares the host root idempotently when executors open on one state directory at once', async () => {
    const stateDir = await tempDir();
    const options = { stateDir, runcPath: 'runc', clock: systemClock };
    const executors = await Promise.all(
      Array.from({ length: 4 }, () => RuncExecutor.open(options)),
    );
    onTestFinished(async () => {
      await Promise.all(executors.map((e) => e.close()));
    });
    const hostRoot = join(stateDir, 'runc-hostroot');
    const expected = readdirSync('/')
      .filter((n) => ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'].includes(n))
      .filter((n) => lstatSync(`/${n}`).isSymbolicLink())
      .sort();
    const linksOk = (): void => {
      expect(readdirSync(hostRoot).sort()).toEqual(expected); // no temporary names left
      for (const name of expected) {
        expect(readlinkSync(join(hostRoot, name))).toBe(readlinkSync(`/${name}`));
      }
    };
    linksOk();
    await RuncExecutor.open(options).then((e) => e.close()); // and again, over what is there
    linksOk();
  });
});
