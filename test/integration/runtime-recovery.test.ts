// A core restarted on the same state directory recovers its pods, containers and images; after
// a crash, tasks whose process is gone become EXITED and tasks still running are adopted.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildBusyboxArchive } from '../../scripts/oci-image.js';
import { isChurnError } from '../../src/common/errors.js';
import { RuntimeService } from '../../src/runtime/service.js';
import {
  containerConfig,
  eventually,
  openCore,
  pidAlive,
  podConfig,
  tempDir,
} from '../support/core-fixtures.js';
import type { ExecutorName } from '../../src/runtime/executors/executor.js';
import { executorsUnderTest } from '../support/executors.js';

const childScript = fileURLToPath(new URL('../support/core-child.ts', import.meta.url));

/** What core-child.ts made before it was killed: a pod with two running containers. */
interface CrashedCore {
  readonly podId: string;
  readonly running: string;
  readonly other: string;
  readonly pids: { readonly running: number; readonly other: number };
  /** The child running the core; SIGKILL it to crash the core. */
  readonly child: ChildProcess;
}

/**
 * Starts a core in a child process (core-child.ts) on `stateDir`, with `executor`, and waits
 * until it has started its containers. The child and the containers are killed when the test
 * finishes.
 */
async function startCoreChild(
  stateDir: string,
  executor: ExecutorName = 'process',
): Promise<CrashedCore> {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, stateDir, executor], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  });
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const info = JSON.parse(line) as Omit<CrashedCore, 'child'>;
  onTestFinished(() => {
    for (const pid of Object.values(info.pids)) if (pidAlive(pid)) process.kill(-pid, 'SIGKILL');
  });
  return { ...info, child };
}

describe('recovery', () => {
  it('recovers pods, containers and images after a clean restart', async () => {
    const stateDir = await tempDir();
    const archives = await tempDir();
    const built = await buildBusyboxArchive(join(archives, 'bb.tar'), ['busybox:recover']);
    const first = await openCore({ stateDir, imagesDir: archives });
    await first.pullImage('busybox:recover');
    const pod = podConfig({ labels: { run: 'r1' } });
    const podId = await first.runPodSandbox(pod, '');
    const running = await first.createContainer(
      podId,
      containerConfig({ name: 'running', image: 'busybox:recover' }),
      pod,
    );
    await first.startContainer(running);
    const created = await first.createContainer(
      podId,
      containerConfig({ name: 'created', labels: { k: 'v' } }),
      pod,
    );
    const stoppedPod = podConfig();
    const stoppedPodId = await first.runPodSandbox(stoppedPod, '');
    await first.stopPodSandbox(stoppedPodId);
    const before = {
      pods: await first.listPodSandbox(),
      created: await first.containerStatus(created),
    };
    const runningPid = (await first.containerStatus(running)).pid;
    await first.close();
    expect(pidAlive(runningPid)).toBe(false);

    const c = await openCore({ stateDir });
    expect((await c.listPodSandbox()).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      before.pods.sort((a, b) => a.id.localeCompare(b.id)),
    );
    expect(await c.containerStatus(created)).toEqual(before.created);
    expect(await c.containerStatus(running)).toMatchObject({
      state: 'EXITED',
      exitCode: 137,
      pid: 0,
    });
    expect((await c.imageStatus('busybox:recover'))?.id).toBe(built.imageId);
    expect((await c.listContainers({ labelSelector: { k: 'v' } })).map((x) => x.id)).toEqual([
      created,
    ]);
    // The indexes came back too: duplicates are still refused, the created container can start.
    const dup: unknown = await c.runPodSandbox(pod, '').catch((e: unknown) => e);
    expect(isChurnError(dup, 'ALREADY_EXISTS')).toBe(true);
    await c.startContainer(created);
    expect((await c.containerStatus(created)).state).toBe('RUNNING');
    await c.removePodSandbox(podId);
    await c.close();
    const again = await openCore({ stateDir });
    expect((await again.listPodSandbox()).map((p) => p.id)).toEqual([stoppedPodId]);
    expect(await again.listContainers()).toEqual([]);
  });

  it.each(executorsUnderTest().filter((e) => !e.skip))(
    'after a crash, adopts tasks still running and marks the others EXITED ($name)',
    async ({ name }) => {
      const stateDir = await tempDir();
      const info = await startCoreChild(stateDir, name);

      // While the first core lives, its state directory is taken.
      const busy: unknown = await RuntimeService.open({ stateDir }).catch((e: unknown) => e);
      expect(isChurnError(busy, 'FAILED_PRECONDITION')).toBe(true);

      info.child.kill('SIGKILL'); // the crash
      await once(info.child, 'exit');
      expect(pidAlive(info.pids.running)).toBe(true);
      process.kill(-info.pids.other, 'SIGKILL');
      expect(await eventually(() => !pidAlive(info.pids.other))).toBe(true);

      const c = await openCore({ stateDir });
      expect(await c.containerStatus(info.running)).toMatchObject({
        state: 'RUNNING',
        pid: info.pids.running,
      });
      expect(await c.containerStatus(info.other)).toMatchObject({
        state: 'EXITED',
        exitCode: 255,
        reason: 'Unknown',
      });
      expect((await c.podSandboxStatus(info.podId)).state).toBe('READY');

      await c.stopContainer(info.running, 0);
      expect(pidAlive(info.pids.running)).toBe(false);
      // The process executor's supervisor (the earlier core's) writes the exact exit into the
      // state directory's FIFO, which this core reads; runc's is lost.
      expect(await c.containerStatus(info.running)).toMatchObject(
        name === 'process'
          ? { state: 'EXITED', exitCode: 137, reason: 'Error' }
          : { state: 'EXITED', exitCode: 255, reason: 'Unknown' },
      );
    },
  );

  it('notices when an adopted task exits on its own, and kills adopted tasks on close', async () => {
    const stateDir = await tempDir();
    const info = await startCoreChild(stateDir);
    info.child.kill('SIGKILL');
    await once(info.child, 'exit');

    const c = await openCore({ stateDir });
    expect((await c.containerStatus(info.other)).state).toBe('RUNNING');
    process.kill(-info.pids.other, 'SIGKILL');
    expect(
      await eventually(async () => (await c.containerStatus(info.other)).state === 'EXITED'),
    ).toBe(true);
    // Its supervisor, the earlier core's, wrote the exact exit into the state directory's FIFO.
    expect(await c.containerStatus(info.other)).toMatchObject({ exitCode: 137 });
    await c.close();
    expect(pidAlive(info.pids.running)).toBe(false);
  });
});
