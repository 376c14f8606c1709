// No orphans: what a container's processes fork and hide (setsid, a daemon's double fork) dies
// with the container or at the latest when the core closes, and a core reopened on a state
// directory kills the tasks an earlier core started but never recorded (a crash between the
// spawn and the journal), for both executors.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { systemClock } from '../../src/common/clock.js';
import { RuncExecutor } from '../../src/runtime/executors/runc-executor.js';
import { taskMarker } from '../../src/common/task-mark.js';
import { coreKeyOf } from '../../src/runtime/executors/task-marker.js';
import type { RuntimeService } from '../../src/runtime/service.js';
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

const childScript = fileURLToPath(new URL('../support/core-child.ts', import.meta.url));
const skipRunc = !runcAvailable() && process.env.CI !== 'true';

let markerSeq = 0;

/** A `sleep` argument unique to this test process and call, to find its processes by. */
function sleepMarker(): string {
  markerSeq += 1;
  return `3587.${process.pid}${String(markerSeq).padStart(3, '0')}`;
}

/** SIGKILLs, when the test finishes, whatever still runs with `marker` (so a failure leaks nothing). */
function killLeftoversAtEnd(marker: string): void {
  onTestFinished(() => {
    for (const pid of processesWithMarker(marker)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
  });
}

/** Runs `command` in a new pod of `c` and waits until `count` processes carry `marker`. */
async function runWith(
  c: RuntimeService,
  command: string[],
  marker: string,
  count: number,
): Promise<{ podId: string; id: string }> {
  killLeftoversAtEnd(marker);
  const pod = podConfig();
  const podId = await c.runPodSandbox(pod, '');
  const id = await c.createContainer(podId, containerConfig({ command }), pod);
  await c.startContainer(id);
  expect(await eventually(() => processesWithMarker(marker).length === count)).toBe(true);
  return { podId, id };
}

/** Starts `sleep marker` detached, as a task of container `containerId` of the core on `stateDir` would run. */
async function spawnMarked(stateDir: string, containerId: string, marker: string): Promise<number> {
  killLeftoversAtEnd(marker);
  const [key, value] = taskMarker(await coreKeyOf(stateDir), containerId).split('=') as [
    string,
    string,
  ];
  const child = spawn('sleep', [marker], {
    detached: true,
    stdio: 'ignore',
    env: { PATH: process.env.PATH, [key]: value },
  });
  child.unref();
  return child.pid!;
}

describe('no orphans from the process executor', () => {
  it('kills a setsid child and the rest of the tree when the container is stopped with SIGKILL', async () => {
    const c = await openCore();
    const m = sleepMarker();
    // The shell forks a sleep in its group, a sleep in a session of its own, then becomes a sleep.
    const { id } = await runWith(
      c,
      ['sh', '-c', `sleep ${m} & setsid sleep ${m} & exec sleep ${m}`],
      m,
      3,
    );
    await c.stopContainer(id, 0);
    await c.removeContainer(id);
    expect(await eventually(() => processesWithMarker(m).length === 0)).toBe(true);
  });

  it('sends SIGTERM to a setsid child too when the stop has a grace period', async () => {
    const c = await openCore();
    const m = sleepMarker();
    const { id } = await runWith(c, ['sh', '-c', `setsid sleep ${m} & exec sleep ${m}`], m, 2);
    await c.stopContainer(id, 30);
    expect(await c.containerStatus(id)).toMatchObject({ state: 'EXITED', exitCode: 143 });
    expect(await eventually(() => processesWithMarker(m).length === 0)).toBe(true);
  });

  it("kills a daemon's double fork, out of the tree, when the core closes", async () => {
    const c = await openCore();
    const m = sleepMarker();
    // The subshell exits at once: its setsid'd sleep is re-parented to init before any stop.
    const { id } = await runWith(c, ['sh', '-c', `(setsid sleep ${m} &); exec sleep ${m}`], m, 2);
    await c.stopContainer(id, 0);
    await c.removeContainer(id);
    await c.close();
    expect(await eventually(() => processesWithMarker(m).length === 0)).toBe(true);
  });

  it('kills what a task that exited on its own left out of its tree, while the core runs on', async () => {
    const c = await openCore();
    const m = sleepMarker();
    const { id } = await runWith(c, ['sh', '-c', `(setsid sleep ${m} &); exec sleep 1`], m, 1);
    expect(await eventually(async () => (await c.containerStatus(id)).state === 'EXITED')).toBe(
      true,
    );
    expect(await eventually(() => processesWithMarker(m).length === 0)).toBe(true);
    expect((await c.status()).conditions[0]?.status).toBe(true); // still open
  });

  it('kills a setsid child of a timed-out exec', async () => {
    const c = await openCore();
    const m = sleepMarker();
    const { id } = await runWith(c, ['sleep', m], m, 1);
    await c.execSync(id, ['sh', '-c', `setsid sleep ${m} & exec sleep ${m}`], 1).catch(() => {});
    // Only the container's own sleep is left.
    expect(await eventually(() => processesWithMarker(m).length === 1)).toBe(true);
    expect((await c.containerStatus(id)).state).toBe('RUNNING');
  });
});

describe('a reopened core kills the tasks an earlier core never recorded', () => {
  it('kills marked processes of containers it does not know, and only those', async () => {
    const stateDir = await tempDir();
    const first = await openCore({ stateDir });
    await first.close();
    const stray = sleepMarker();
    const strayPid = await spawnMarked(stateDir, 'f00dfeed', stray);
    const otherCore = sleepMarker();
    const otherPid = await spawnMarked(await tempDir(), 'f00dfeed', otherCore);
    expect(pidAlive(strayPid)).toBe(true);

    await openCore({ stateDir });
    expect(await eventually(() => !pidAlive(strayPid))).toBe(true);
    // Another core's task is not this core's business.
    expect(pidAlive(otherPid)).toBe(true);
  });

  it('after a crash, keeps adopted tasks and kills the one the journal did not record', async () => {
    const stateDir = await tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', childScript, stateDir, 'process'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    const info = await firstLine(child);
    onTestFinished(() => {
      for (const pid of Object.values(info.pids)) if (pidAlive(pid)) process.kill(-pid, 'SIGKILL');
    });
    // As if the crashed core had spawned a third container's task and died before recording it
    // (`churn run` SIGKILLed inside startContainer: the journal says CREATED, pid 0).
    const unrecorded = sleepMarker();
    const unrecordedPid = await spawnMarked(stateDir, 'c0ffee00', unrecorded);
    child.kill('SIGKILL');
    await once(child, 'exit');

    const c = await openCore({ stateDir });
    expect(await eventually(() => !pidAlive(unrecordedPid))).toBe(true);
    expect(await c.containerStatus(info.running)).toMatchObject({ state: 'RUNNING' });
    expect(pidAlive(info.pids.running)).toBe(true);
    expect(pidAlive(info.pids.other)).toBe(true);
    await c.close();
    expect(pidAlive(info.pids.running)).toBe(false);
    expect(pidAlive(info.pids.other)).toBe(false);
  });

  it.skipIf(skipRunc)(
    'deletes runc containers under its root that the journal does not know',
    async () => {
      const stateDir = await tempDir();
      // An earlier core's runc executor started a sandbox and a container, then "crashed": nothing
      // reached the journal. (Closed at the end only in case the test fails first.)
      const earlier = await RuncExecutor.open({ stateDir, runcPath: 'runc', clock: systemClock });
      onTestFinished(() => earlier.close());
      const sandbox = {
        podId: 'feedface',
        hostname: 'crashed',
        networkMode: 'NODE',
        pidMode: 'POD',
        ipcMode: 'POD',
      } as const;
      const pausePid = (await earlier.createSandbox(sandbox))!.pid;
      const task = await earlier.start({
        containerId: 'deadbeef',
        sandbox,
        rootfs: '/',
        argv: ['sleep', '3600'],
        env: ['PATH=/usr/bin:/bin'],
        cwd: '/',
        logPath: '',
      });
      const runcRoot = join(stateDir, 'runc');
      expect(listRunc(runcRoot).sort()).toEqual(['deadbeef', 'pause-feedface']);

      // The default executor is process: the core opens runc for the leftovers alone.
      await openCore({ stateDir });
      expect(listRunc(runcRoot)).toEqual([]);
      expect(readdirSync(join(stateDir, 'runc-bundles'))).toEqual([]);
      expect(await eventually(() => !pidAlive(task.ref.pid) && !pidAlive(pausePid))).toBe(true);
    },
  );
});

/** What core-child.ts prints once its containers run. */
interface ChildInfo {
  readonly podId: string;
  readonly running: string;
  readonly other: string;
  readonly pids: { readonly running: number; readonly other: number };
}

async function firstLine(child: ChildProcess): Promise<ChildInfo> {
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return JSON.parse(line) as ChildInfo;
}

/** Ids of the containers runc lists under `root`. */
function listRunc(root: string): string[] {
  const out = execFileSync('runc', ['--root', root, 'list', '--format', 'json'], {
    encoding: 'utf8',
  });
  return ((JSON.parse(out) as { id: string }[] | null) ?? []).map((c) => c.id);
}
