// Tasks of the `process` executor: stop policy, exec, CRI logs, stats, images' rootfs, and no
// process left behind.
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildBusyboxArchive } from '../../scripts/oci-image.js';
import { isChurnError } from '../../src/common/errors.js';
import { taskExitsFifo } from '../../src/runtime/executors/task-supervisor.js';
import { RuntimeService } from '../../src/runtime/service.js';
import type { Mount } from '../../src/runtime/types.js';
import {
  containerConfig,
  eventually,
  openCore,
  pidAlive,
  podConfig,
  processesWithMarker,
  refusedCreate,
  tempDir,
} from '../support/core-fixtures.js';

/** True when process `pid` ignores `signal` (bit in /proc/<pid>/status SigIgn). */
function ignoresSignal(pid: number, signal: number): boolean {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mask = /SigIgn:\s*([0-9a-f]+)/.exec(status)?.[1] ?? '0';
  return (BigInt(`0x${mask}`) & (1n << BigInt(signal - 1))) !== 0n;
}

async function waitExited(core: RuntimeService, id: string): Promise<void> {
  expect(
    await eventually(async () => (await core.containerStatus(id)).state === 'EXITED', 20_000),
  ).toBe(true);
}

describe('tasks of the process executor', () => {
  async function runIn(
    c: RuntimeService,
    command: string[],
    extra: Parameters<typeof containerConfig>[0] = {},
  ) {
    const pod = podConfig();
    const podId = await c.runPodSandbox(pod, '');
    const id = await c.createContainer(podId, containerConfig({ command, ...extra }), pod);
    await c.startContainer(id);
    return { podId, id, pid: (await c.containerStatus(id)).pid };
  }

  it('kills a process that ignores SIGTERM after the grace period, and not before', async () => {
    const c = await openCore();
    const { id, pid } = await runIn(c, ['sh', '-c', 'trap "" TERM; while :; do sleep 0.05; done']);
    expect(await eventually(() => ignoresSignal(pid, 15))).toBe(true);
    const graceSec = 2;
    const started = performance.now();
    let stopReturned = false;
    const stopping = c.stopContainer(id, graceSec).then(() => (stopReturned = true));
    // Well inside the grace period it is still alive and RUNNING: SIGTERM did not kill it.
    await new Promise((r) => setTimeout(r, 500));
    expect(stopReturned).toBe(false);
    expect(pidAlive(pid)).toBe(true);
    expect((await c.containerStatus(id)).state).toBe('RUNNING');
    await stopping;
    expect(performance.now() - started).toBeGreaterThanOrEqual(graceSec * 1000 - 50);
    expect(pidAlive(pid)).toBe(false);
    expect(await c.containerStatus(id)).toMatchObject({ state: 'EXITED', exitCode: 137 });
  });

  it('stops a process that handles SIGTERM without waiting for the grace period', async () => {
    const c = await openCore();
    const { id } = await runIn(c, ['sleep', '3600']);
    const started = performance.now();
    await c.stopContainer(id, 60);
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(await c.containerStatus(id)).toMatchObject({ state: 'EXITED', exitCode: 143 });
  });

  it('runs a task outside the core (not its child), with its own session, argv, environment and signals, and exact exit codes (supervisedTasks, the default)', async () => {
    const c = await openCore({ supervisedTasks: true });
    const { id, pid } = await runIn(c, ['sleep', '3600'], { envs: [{ key: 'A', value: 'b c' }] });
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const [ppid, pgrp, session] = stat
      .slice(stat.lastIndexOf(')') + 4)
      .split(' ')
      .map(Number);
    expect(ppid).not.toBe(process.pid);
    expect([pgrp, session]).toEqual([pid, pid]);
    expect(readFileSync(`/proc/${pid}/cmdline`, 'latin1')).toBe('sleep\u00003600\u0000');
    const environ = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
    expect(environ).toContain('A=b c');
    expect(environ.some((kv) => kv.startsWith('CHURN_TASK_ARGV='))).toBe(false);
    expect(ignoresSignal(pid, 2) || ignoresSignal(pid, 3)).toBe(false);
    await c.stopContainer(id, 0);
    expect((await c.containerStatus(id)).exitCode).toBe(137);
    const exits = await runIn(c, ['sh', '-c', 'exit 3']);
    await waitExited(c, exits.id);
    expect((await c.containerStatus(exits.id)).exitCode).toBe(3);
  });

  it('spawns tasks as children of the core with supervisedTasks false, with exact exit codes and logs', async () => {
    const c = await openCore({ supervisedTasks: false });
    const logDir = await tempDir();
    const pod = podConfig({ logDirectory: logDir });
    const podId = await c.runPodSandbox(pod, '');
    const id = await c.createContainer(
      podId,
      containerConfig({ command: ['sh', '-c', 'echo out; exit 4'], logPath: 'direct.log' }),
      pod,
    );
    await c.startContainer(id);
    await waitExited(c, id);
    expect((await c.containerStatus(id)).exitCode).toBe(4);
    expect(await readFile(join(logDir, 'direct.log'), 'utf8')).toMatch(/ stdout F out\n$/);
    const { id: sleeper, pid } = await runIn(c, ['sleep', '3600'], { name: 'sleeper' });
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    expect(Number(stat.slice(stat.lastIndexOf(')') + 4).split(' ')[0])).toBe(process.pid);
    await c.stopContainer(sleeper, 0);
    expect((await c.containerStatus(sleeper)).exitCode).toBe(137);
  });

  it("reports a supervised task's exit as lost when its supervisor died, once it is stopped", async () => {
    const c = await openCore();
    const { id, pid } = await runIn(c, ['sleep', '3600'], { name: 'orphaned' });
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const supervisor = Number(stat.slice(stat.lastIndexOf(')') + 4).split(' ')[0]);
    expect(supervisor).not.toBe(process.pid);
    process.kill(supervisor, 'SIGKILL');
    expect(await eventually(() => !pidAlive(supervisor))).toBe(true);
    expect((await c.containerStatus(id)).state).toBe('RUNNING');
    await c.stopContainer(id, 0);
    expect(pidAlive(pid)).toBe(false);
    expect(await c.containerStatus(id)).toMatchObject({
      state: 'EXITED',
      exitCode: 255,
      reason: 'Unknown',
    });
  });

  it('takes no exit line for a task that still runs: what its supervisor writes decides (supervisedTasks)', async () => {
    // Every task of a user can reach the exits FIFO through its supervisors' descriptors: a
    // line naming a live task is not its supervisor's, and must not end the container.
    const stateDir = await tempDir();
    const c = await openCore({ stateDir });
    const { id, pid } = await runIn(c, ['sleep', '3600'], { name: 'forged' });
    writeFileSync(join(stateDir, taskExitsFifo), `${pid} 0\n`);
    await sleep(500);
    expect((await c.containerStatus(id)).state).toBe('RUNNING');
    await c.stopContainer(id, 0);
    expect(await c.containerStatus(id)).toMatchObject({ state: 'EXITED', exitCode: 137 });
  });

  it('logs every line of short supervised tasks and reads EXITED with their exit codes (supervisedTasks)', async () => {
    // A task that writes and exits at once: its output and its exit reach the core before the
    // core has read its pid (critest's log specs, issue 13).
    const c = await openCore({ supervisedTasks: true });
    const logDir = await tempDir();
    const pod = podConfig({ logDirectory: logDir });
    const podId = await c.runPodSandbox(pod, '');
    for (let i = 0; i < 20; i++) {
      const command =
        i % 2 === 0
          ? ['echo', `line ${i}`]
          : ['sh', '-c', `echo line ${i}; echo err ${i} >&2; exit ${i}`];
      const id = await c.createContainer(
        podId,
        containerConfig({ name: `short-${i}`, command, logPath: `short-${i}.log` }),
        pod,
      );
      await c.startContainer(id);
      await waitExited(c, id);
      expect((await c.containerStatus(id)).exitCode).toBe(i % 2 === 0 ? 0 : i);
      const text = (await readFile(join(logDir, `short-${i}.log`), 'utf8'))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split(' ').slice(1).join(' '))
        .sort();
      expect(text).toEqual(
        i % 2 === 0 ? [`stdout F line ${i}`] : [`stderr F err ${i}`, `stdout F line ${i}`],
      );
    }
  });

  it('kills what the main process forked when it stops', async () => {
    const c = await openCore();
    const marker = `3599.${process.pid}1`;
    const { id } = await runIn(c, ['sh', '-c', `sleep ${marker} & sleep ${marker} & wait`]);
    // The shell and its two sleeps.
    expect(await eventually(() => processesWithMarker(marker).length === 3)).toBe(true);
    await c.stopContainer(id, 0);
    expect(await eventually(() => processesWithMarker(marker).length === 0)).toBe(true);
  });

  it('returns exec output byte for byte with the exit code, and kills a timed-out exec', async () => {
    const c = await openCore();
    const { id } = await runIn(c, ['sleep', '3600'], {
      envs: [{ key: 'GREETING', value: 'héllo' }],
    });
    const r = await c.execSync(
      id,
      ['sh', '-c', 'printf "a\\nb"; printf "$GREETING" >&2; exit 3'],
      10,
    );
    expect(r.stdout).toEqual(Buffer.from('a\nb'));
    expect(r.stderr).toEqual(Buffer.from('héllo'));
    expect(r.exitCode).toBe(3);
    const big = await c.execSync(id, ['sh', '-c', 'head -c 300000 /dev/zero'], 10);
    expect(big.stdout.length).toBe(300_000);

    const marker = `3598.${process.pid}2`;
    const err: unknown = await c.execSync(id, ['sleep', marker], 1).catch((e: unknown) => e);
    expect(isChurnError(err, 'DEADLINE_EXCEEDED')).toBe(true);
    expect(processesWithMarker(marker)).toEqual([]);
    // The container itself is untouched.
    expect((await c.containerStatus(id)).state).toBe('RUNNING');
  });

  it('writes stdout and stderr to a CRI-format log file under the pod log directory', async () => {
    const c = await openCore();
    const logDir = await tempDir();
    const pod = podConfig({ logDirectory: logDir });
    const podId = await c.runPodSandbox(pod, '');
    const long = 'x'.repeat(20_000);
    const script = `echo first; echo oops >&2; printf '${long}\\n'; printf 'no newline'`;
    const id = await c.createContainer(
      podId,
      containerConfig({ command: ['sh', '-c', script], logPath: 'c/0.log' }),
      pod,
    );
    await c.startContainer(id);
    await waitExited(c, id);
    const status = await c.containerStatus(id);
    expect(status.logPathAbs).toBe(join(logDir, 'c/0.log'));
    const lines = (await readFile(status.logPathAbs, 'utf8')).split('\n');
    expect(lines.pop()).toBe('');
    const parsed = lines.map((l) => {
      const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (stdout|stderr) ([FP]) (.*)$/s.exec(l);
      expect(m, `not a CRI log line: ${l.slice(0, 80)}`).not.toBeNull();
      return { stream: m![2], tag: m![3], text: m![4]! };
    });
    const stdout = parsed.filter((p) => p.stream === 'stdout');
    expect(stdout.map((p) => [p.tag, p.text.length])).toEqual([
      ['F', 5],
      ['P', 16_384],
      ['F', 20_000 - 16_384],
      ['P', 10],
    ]);
    expect(stdout[0]!.text).toBe('first');
    expect(stdout[3]!.text).toBe('no newline');
    expect(parsed.filter((p) => p.stream === 'stderr').map((p) => [p.tag, p.text])).toEqual([
      ['F', 'oops'],
    ]);
  });

  it('has the log file by the time StartContainer returns, before any output', async () => {
    const c = await openCore();
    const logDir = await tempDir();
    const pod = podConfig({ logDirectory: logDir });
    const podId = await c.runPodSandbox(pod, '');
    const id = await c.createContainer(
      podId,
      containerConfig({ command: ['sleep', '3600'], logPath: 'quiet.log' }),
      pod,
    );
    await c.startContainer(id);
    expect(await readFile(join(logDir, 'quiet.log'), 'utf8')).toBe('');
  });

  it.each([
    [{ privileged: true }, 'privileged'],
    [{ addCapabilities: ['NET_ADMIN'] }, 'add capability NET_ADMIN'],
    [{ dropCapabilities: ['ALL'] }, 'drop capability ALL'],
    [{ noNewPrivs: true }, 'no_new_privs'],
    [{ supplementalGroups: [1234] }, 'supplemental group 1234'],
    [{ maskedPaths: ['/bin/ls'] }, 'masked path /bin/ls'],
    [{ readonlyPaths: ['/tmp'] }, 'read-only path /tmp'],
    // Root only with --task-user 0 when the core is root; never another user's when it is not.
    [{ runAsUser: 0 }, 'uid 0'],
    [{ readonlyRootfs: true }, 'readonly_rootfs'],
    [{ mounts: [hostMount({ containerPath: '/data' })] }, 'another path'],
    [{ mounts: [hostMount({ readonly: true })] }, 'read-only'],
    [
      { mounts: [hostMount({ propagation: 'HOST_TO_CONTAINER' })] },
      'propagation HOST_TO_CONTAINER',
    ],
  ])('refuses %j with INVALID_ARGUMENT naming the runc executor', async (extra, named) => {
    const err = await refusedCreate(await openCore(), extra);
    expect(err.message).toContain(named);
    expect(err.message).toContain('--executor runc');
  });

  it("accepts the kubelet's default masked and read-only paths (and the task user) without applying them", async () => {
    const c = await openCore();
    const pod = podConfig();
    const podId = await c.runPodSandbox(pod, '');
    const { uid, gid } = c.options.taskUserPolicy.taskUser;
    const id = await c.createContainer(
      podId,
      containerConfig({
        runAsUser: uid,
        runAsGroup: gid,
        maskedPaths: ['/proc/kcore', '/sys/firmware', '/sys/devices/virtual/powercap'],
        readonlyPaths: ['/proc/sys'],
      }),
      pod,
    );
    await c.startContainer(id);
    expect((await c.containerStatus(id)).state).toBe('RUNNING');
  });

  it('accepts a private read-write mount of a host path at that same path (what its tasks see anyway)', async () => {
    const c = await openCore();
    const host = await tempDir();
    const pod = podConfig();
    const podId = await c.runPodSandbox(pod, '');
    const mounts = [hostMount({ hostPath: host, containerPath: host })];
    const id = await c.createContainer(podId, containerConfig({ mounts }), pod);
    expect((await c.containerStatus(id)).config.mounts).toEqual(mounts);
  });

  it("refuses a pod's sysctls with INVALID_ARGUMENT naming the runc executor", async () => {
    const c = await openCore();
    const err: unknown = await c
      .runPodSandbox(podConfig({ sysctls: { 'kernel.shm_rmid_forced': '1' } }), '')
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isChurnError(err, 'INVALID_ARGUMENT'), String(err)).toBe(true);
    expect((err as Error).message).toContain('kernel.shm_rmid_forced');
    expect((err as Error).message).toContain('--executor runc');
    expect(await c.listPodSandbox()).toEqual([]);
  });

  it('reports CPU and memory of a running container with a timestamp', async () => {
    const c = await openCore();
    const { id } = await runIn(c, [
      'sh',
      '-c',
      'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 3600',
    ]);
    await new Promise((r) => setTimeout(r, 300));
    const stats = await c.containerStats(id);
    expect(stats.id).toBe(id);
    expect(stats.memoryWorkingSetBytes).toBeGreaterThan(0);
    expect(stats.cpuUsageCoreNs).toBeGreaterThan(0n);
    expect(stats.timestampNs).toBeGreaterThan(0n);
    const all = await c.listContainerStats({ id });
    expect(all.map((s) => s.id)).toEqual([id]);
  });

  it('runs busybox applets from the image rootfs with the image and container environment', async () => {
    const archives = await tempDir();
    await buildBusyboxArchive(join(archives, 'busybox.tar'), ['busybox:test']);
    const c = await openCore({ imagesDir: archives });
    const imageId = await c.pullImage('busybox:test');
    const { id, pid } = await runIn(c, ['sleep', '3600'], {
      image: 'docker.io/library/busybox:test',
      envs: [{ key: 'FOO', value: 'bar' }],
    });
    const rootfs = join(c.options.stateDir, 'images', 'rootfs', imageId.slice(7));
    expect(readlinkSync(`/proc/${pid}/exe`)).toBe(join(rootfs, 'bin/busybox'));
    const r = await c.execSync(id, ['env'], 10);
    const env = r.stdout.toString().split('\n');
    expect(env).toContain('FOO=bar');
    expect(env).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    const cwd = await c.execSync(id, ['pwd'], 10);
    expect(cwd.stdout.toString().trim()).toBe(rootfs);
    const missing: unknown = await runIn(c, ['no-such-command']).catch((e: unknown) => e);
    expect(isChurnError(missing, 'FAILED_PRECONDITION')).toBe(true);
    const failed = (await c.listContainers({ state: 'EXITED' }))[0];
    expect(failed).toMatchObject({ exitCode: 128, reason: 'StartError' });
  });

  it('leaves no process behind after close', async () => {
    const c = await openCore();
    const pids: number[] = [];
    for (let i = 0; i < 3; i++)
      pids.push((await runIn(c, ['sh', '-c', 'trap "" TERM; sleep 3600 & wait'])).pid);
    const pod = podConfig();
    const podId = await c.runPodSandbox(pod, '');
    const created = await c.createContainer(podId, containerConfig(), pod);
    for (const pid of pids) expect(pidAlive(pid)).toBe(true);
    await c.close();
    for (const pid of pids) expect(pidAlive(pid)).toBe(false);
    // Reads still work after close; mutations are refused.
    expect((await c.containerStatus(created)).state).toBe('CREATED');
    const err: unknown = await c.startContainer(created).catch((e: unknown) => e);
    expect(isChurnError(err, 'UNAVAILABLE')).toBe(true);
  });
});

/** A CRI mount of /srv/churn-test at the same path, private and read-write, unless overridden. */
function hostMount(over: Partial<Mount> = {}): Mount {
  return {
    containerPath: '/srv/churn-test',
    hostPath: '/srv/churn-test',
    readonly: false,
    selinuxRelabel: false,
    propagation: 'PRIVATE',
    ...over,
  };
}
