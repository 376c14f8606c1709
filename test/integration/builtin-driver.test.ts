// The builtin driver doing what the harness does: full cycles, concurrently, with faults, and
// nothing left behind after close.
import { existsSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isChurnError } from '../../src/common/errors.js';
import type { ContainerSpec, PodSpec } from '../../src/drivers/driver.js';
import { BuiltinDriver } from '../../src/drivers/builtin.js';
import { pidAlive, podConfig, processesWithMarker, tempDir } from '../support/core-fixtures.js';
import { containerSpec, podSpec } from '../support/driver-specs.js';
import { executorsUnderTest } from '../support/executors.js';

let seq = 0;
/** A pod of its own for each cycle. */
function cyclePod(labels: Record<string, string> = {}): PodSpec {
  seq += 1;
  return podSpec(`cycle-${seq}`, { labels: { 'churn.run': 'test', ...labels } });
}

const sleepSpec: ContainerSpec = containerSpec({
  name: 'work',
  env: { CHURN: '1' },
  labels: { 'churn.run': 'test' },
});

async function cycle(driver: BuiltinDriver, pids: number[]): Promise<void> {
  const pod = cyclePod();
  const podId = await driver.runPod(pod);
  const id = await driver.createContainer(podId, pod, sleepSpec);
  await driver.startContainer(id);
  expect((await driver.containerStatus(id)).state).toBe('RUNNING');
  pids.push((await driver.core.call('containerStatus', [id])).pid);
  await driver.stopContainer(id, 0);
  expect(await driver.containerStatus(id)).toMatchObject({
    state: 'EXITED',
    exitCode: 137,
    name: 'work',
  });
  await driver.removeContainer(id);
  await driver.stopPod(podId);
  await driver.removePod(podId);
}

describe.each(executorsUnderTest())('BuiltinDriver with executor $name', ({ name, skip }) => {
  it.skipIf(skip)('runs full cycles, concurrently, and leaves nothing behind', async () => {
    const driver = new BuiltinDriver({ executor: name });
    onTestFinished(() => driver.close());
    const info = await driver.connect();
    expect(info).toMatchObject({
      runtimeName: 'churn-core',
      runtimeApiVersion: 'v1',
      runtimeHandler: '',
    });
    // Its temporary state directory is new: no process can carry its tasks' mark yet.
    expect(info.host?.newTaskMark).toBe(true);
    expect(await driver.pullImage('host')).toMatch(/^sha256:/);
    const stateDir = driver.stateDir!;
    const pids: number[] = [];
    const workers = name === 'runc' ? 2 : 4;
    const cyclesPerWorker = name === 'runc' ? 3 : 10;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        for (let i = 0; i < cyclesPerWorker; i++) await cycle(driver, pids);
      }),
    );
    expect(pids).toHaveLength(workers * cyclesPerWorker);
    expect(await driver.listPods({ labelSelector: { 'churn.run': 'test' } })).toEqual([]);
    expect(await driver.listContainers({ labelSelector: { 'churn.run': 'test' } })).toEqual([]);
    for (const pid of pids) expect(pidAlive(pid)).toBe(false);
    await driver.close();
    expect(existsSync(stateDir)).toBe(false);
  });

  it.skipIf(skip)(
    'execs, lists by pod and label, and passes core errors through with their codes',
    async () => {
      const driver = new BuiltinDriver({ executor: name, stateDir: await tempDir() });
      onTestFinished(() => driver.close());
      // A state directory it was given may hold an earlier core's tasks: their mark is not new.
      expect((await driver.connect()).host?.newTaskMark).toBeUndefined();
      const pod = cyclePod({ tier: 'a' });
      const podId = await driver.runPod(pod);
      const id = await driver.createContainer(podId, pod, sleepSpec);
      await driver.startContainer(id);
      expect(await driver.exec(id, ['sh', '-c', 'echo $CHURN; echo e >&2; exit 4'], 10)).toEqual({
        exitCode: 4,
        stdout: '1\n',
        stderr: 'e\n',
      });
      expect(
        (await driver.listPods({ labelSelector: { tier: 'a' } })).map((p) => [p.id, p.state]),
      ).toEqual([[podId, 'READY']]);
      expect((await driver.listContainers({ podId })).map((c) => c.id)).toEqual([id]);
      const twice: unknown = await driver.startContainer(id).catch((e: unknown) => e);
      expect(isChurnError(twice, 'FAILED_PRECONDITION')).toBe(true);
      const dup: unknown = await driver.runPod(pod).catch((e: unknown) => e);
      expect(isChurnError(dup, 'ALREADY_EXISTS')).toBe(true);
      const missing: unknown = await driver.containerStatus('nope').catch((e: unknown) => e);
      expect(isChurnError(missing, 'NOT_FOUND')).toBe(true);
      const aborted: unknown = await driver
        .stopPod(podId, { signal: AbortSignal.abort() })
        .catch((e: unknown) => e);
      expect(isChurnError(aborted, 'CANCELLED')).toBe(true);
      await driver.removePod(podId);
    },
  );
});

describe('CoreProcess calls', () => {
  it('a call given a signal that has already aborted fails CANCELLED and never reaches the core', async () => {
    const driver = new BuiltinDriver();
    onTestFinished(() => driver.close());
    await driver.connect();
    const cancelled: unknown = await driver.core
      .call('runPodSandbox', [podConfig({ name: 'never' }), ''], AbortSignal.abort())
      .catch((e: unknown) => e);
    expect(isChurnError(cancelled, 'CANCELLED')).toBe(true);
    expect(await driver.core.call('listPodSandbox', [{}])).toEqual([]);
  });
});

describe('BuiltinDriver whose core process is killed', () => {
  it('fails calls UNAVAILABLE, and close stops the tasks the dead core left and removes its temporary state', async () => {
    const driver = new BuiltinDriver();
    onTestFinished(() => driver.close());
    await driver.connect();
    const stateDir = driver.stateDir!;
    const marker = `4${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
    const pod = cyclePod();
    const podId = await driver.runPod(pod);
    const id = await driver.createContainer(
      podId,
      pod,
      containerSpec({ name: 'orphan', command: ['sleep', marker] }),
    );
    await driver.startContainer(id);
    expect(processesWithMarker(marker)).toHaveLength(1);

    process.kill(driver.core.pid, 'SIGKILL');
    const lost: unknown = await driver.containerStatus(id).catch((e: unknown) => e);
    expect(isChurnError(lost, 'UNAVAILABLE')).toBe(true);
    await driver.close();
    expect(processesWithMarker(marker)).toEqual([]);
    expect(existsSync(stateDir)).toBe(false);
  });
});

describe('BuiltinDriver fault injection', () => {
  async function failurePattern(seed: number): Promise<{ pattern: string; pods: number }> {
    const driver = new BuiltinDriver({
      seed,
      faults: {
        run_pod: {
          latencyMs: { meanMs: 0, stddevMs: 0 },
          errorRate: 0.2,
          code: 'RESOURCE_EXHAUSTED',
        },
      },
    });
    onTestFinished(() => driver.close());
    await driver.connect();
    let pattern = '';
    for (let i = 0; i < 300; i++) {
      try {
        await driver.runPod(cyclePod());
        pattern += '.';
      } catch (err) {
        expect(isChurnError(err, 'RESOURCE_EXHAUSTED')).toBe(true);
        pattern += 'x';
      }
    }
    const pods = (await driver.listPods({})).length;
    await driver.close();
    return { pattern, pods };
  }

  it('fails the chosen share of calls, reproducibly, and a failed call changes nothing', async () => {
    const a = await failurePattern(1234);
    const b = await failurePattern(1234);
    expect(b.pattern).toBe(a.pattern);
    const failures = a.pattern.split('').filter((ch) => ch === 'x').length;
    expect(failures).toBeGreaterThan(30);
    expect(failures).toBeLessThan(90);
    expect(a.pods).toBe(300 - failures);
    expect((await failurePattern(4321)).pattern).not.toBe(a.pattern);
  });
});
