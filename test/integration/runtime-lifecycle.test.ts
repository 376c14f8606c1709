// The lifecycle the core enforces: every illegal transition gets its specific error, in both
// compat modes, with real processes. Runs once per available executor.
import { describe, expect, it } from 'vitest';
import { isChurnError, type ErrorCode } from '../../src/common/errors.js';
import type { Compat } from '../../src/runtime/lifecycle.js';
import { RuntimeService } from '../../src/runtime/service.js';
import type { LifecycleEvent } from '../../src/runtime/types.js';
import { containerConfig, openCore, pidAlive, podConfig } from '../support/core-fixtures.js';
import { executorsUnderTest } from '../support/executors.js';

async function expectCode(
  call: Promise<unknown>,
  code: ErrorCode,
  ...fragments: string[]
): Promise<void> {
  const err: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isChurnError(err), `expected a ChurnError ${code}, got ${String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
  for (const f of fragments) expect((err as Error).message).toContain(f);
}

describe.each(executorsUnderTest())('lifecycle with executor $name', ({ name, skip }) => {
  const open = (compat: Compat = 'strict'): Promise<RuntimeService> =>
    openCore({ executor: name, compat });

  /** A pod with a RUNNING container, a CREATED one and an EXITED one. */
  async function scene(c: RuntimeService) {
    const pod = podConfig();
    const podId = await c.runPodSandbox(pod, '');
    const running = await c.createContainer(podId, containerConfig({ name: 'running' }), pod);
    await c.startContainer(running);
    const created = await c.createContainer(podId, containerConfig({ name: 'created' }), pod);
    const exited = await c.createContainer(podId, containerConfig({ name: 'exited' }), pod);
    await c.startContainer(exited);
    await c.stopContainer(exited, 0);
    return { pod, podId, running, created, exited };
  }

  it.skipIf(skip)('refuses every illegal transition with its specific error (strict)', async () => {
    const c = await open('strict');
    const s = await scene(c);
    const table: [string, () => Promise<unknown>, ErrorCode, string[]][] = [
      [
        'start twice',
        () => c.startContainer(s.running),
        'FAILED_PRECONDITION',
        [s.running, 'RUNNING'],
      ],
      [
        'start an exited container',
        () => c.startContainer(s.exited),
        'FAILED_PRECONDITION',
        [s.exited, 'EXITED'],
      ],
      [
        'exec in a created container',
        () => c.execSync(s.created, ['true'], 5),
        'FAILED_PRECONDITION',
        [s.created, 'CREATED'],
      ],
      [
        'exec in an exited container',
        () => c.execSync(s.exited, ['true'], 5),
        'FAILED_PRECONDITION',
        [s.exited],
      ],
      ['status of an unknown container', () => c.containerStatus('nope'), 'NOT_FOUND', ['nope']],
      ['status of an unknown pod', () => c.podSandboxStatus('nope'), 'NOT_FOUND', ['nope']],
      ['start of an unknown container', () => c.startContainer('nope'), 'NOT_FOUND', ['nope']],
      [
        'exec in an unknown container',
        () => c.execSync('nope', ['true'], 1),
        'NOT_FOUND',
        ['nope'],
      ],
      [
        'create in an unknown pod',
        () => c.createContainer('nope', containerConfig(), s.pod),
        'NOT_FOUND',
        ['nope'],
      ],
      [
        'create from an unknown image',
        () => c.createContainer(s.podId, containerConfig({ name: 'x', image: 'nosuch:1' }), s.pod),
        'NOT_FOUND',
        ['nosuch:1'],
      ],
      [
        'duplicate pod metadata',
        () => c.runPodSandbox(s.pod, ''),
        'ALREADY_EXISTS',
        [s.pod.metadata.name],
      ],
      [
        'duplicate container name and attempt',
        () => c.createContainer(s.podId, containerConfig({ name: 'running' }), s.pod),
        'ALREADY_EXISTS',
        ['running'],
      ],
      [
        'unknown runtime handler',
        () => c.runPodSandbox(podConfig(), 'kata'),
        'INVALID_ARGUMENT',
        ['kata'],
      ],
    ];
    for (const [what, call, code, fragments] of table) {
      await expectCode(call(), code, ...fragments).catch((err: unknown) => {
        throw new Error(`${what}: ${(err as Error).message}`);
      });
    }
    // None of the refused calls changed anything.
    expect((await c.containerStatus(s.running)).state).toBe('RUNNING');
    expect((await c.containerStatus(s.created)).state).toBe('CREATED');
    expect((await c.containerStatus(s.exited)).state).toBe('EXITED');
    expect(await c.listContainers({ podId: s.podId })).toHaveLength(3);

    // A stopped pod refuses new containers and starts.
    await c.stopPodSandbox(s.podId);
    await expectCode(
      c.createContainer(s.podId, containerConfig({ name: 'late' }), s.pod),
      'FAILED_PRECONDITION',
      s.podId,
      'NOTREADY',
    );
    await expectCode(c.startContainer(s.created), 'FAILED_PRECONDITION', s.podId, 'NOTREADY');
  });

  it.skipIf(skip)('answers as containerd 1.6 does in containerd compat mode', async () => {
    const c = await open('containerd');
    const s = await scene(c);
    await expectCode(c.startContainer(s.running), 'UNKNOWN', s.running);
    await expectCode(c.runPodSandbox(s.pod, ''), 'UNKNOWN');
    await expectCode(
      c.createContainer(s.podId, containerConfig({ name: 'running' }), s.pod),
      'UNKNOWN',
    );
    await expectCode(c.stopContainer('nope', 0), 'NOT_FOUND');
    await expectCode(c.stopPodSandbox('nope'), 'NOT_FOUND');
    await expectCode(c.containerStatus('nope'), 'NOT_FOUND');
    await c.removeContainer('nope');
    await c.removePodSandbox('nope');
    // Removing a running container kills it and removes it.
    const pid = (await c.containerStatus(s.running)).pid;
    await c.removeContainer(s.running);
    await expectCode(c.containerStatus(s.running), 'NOT_FOUND');
    if (name === 'process') expect(pidAlive(pid)).toBe(false);
    await c.stopPodSandbox(s.podId);
    await expectCode(
      c.createContainer(s.podId, containerConfig({ name: 'late' }), s.pod),
      'NOT_FOUND',
    );
  });

  it.skipIf(skip)('removes a running container by force in strict mode too (CRI)', async () => {
    const c = await open('strict');
    const s = await scene(c);
    const pid = (await c.containerStatus(s.running)).pid;
    await c.removeContainer(s.running);
    await expectCode(c.containerStatus(s.running), 'NOT_FOUND');
    if (name === 'process') expect(pidAlive(pid)).toBe(false);
    expect(await c.listContainers({ podId: s.podId })).toHaveLength(2);
  });

  it.skipIf(skip)(
    'treats stop and remove of unknown ids, and stop of a non-running container, as no-ops',
    async () => {
      const c = await open();
      const s = await scene(c);
      await c.stopContainer('nope', 0);
      await c.removeContainer('nope');
      await c.stopPodSandbox('nope');
      await c.removePodSandbox('nope');
      await c.stopContainer(s.created, 0);
      expect((await c.containerStatus(s.created)).state).toBe('CREATED');
      const before = await c.containerStatus(s.exited);
      await c.stopContainer(s.exited, 0);
      expect(await c.containerStatus(s.exited)).toEqual(before);
      // A created container can still start after a no-op stop.
      await c.startContainer(s.created);
      expect((await c.containerStatus(s.created)).state).toBe('RUNNING');
    },
  );

  it.skipIf(skip)(
    'records CREATED → RUNNING → EXITED with pid, exit code, reason and times',
    async () => {
      const c = await open();
      const pod = podConfig();
      const podId = await c.runPodSandbox(pod, '');
      const id = await c.createContainer(
        podId,
        containerConfig({ command: ['sh', '-c', 'exit 7'] }),
        pod,
      );
      const created = await c.containerStatus(id);
      expect(created).toMatchObject({
        state: 'CREATED',
        startedAtNs: 0n,
        finishedAtNs: 0n,
        pid: 0,
      });
      await c.startContainer(id);
      const deadline = Date.now() + 20_000;
      while ((await c.containerStatus(id)).state !== 'EXITED' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const exited = await c.containerStatus(id);
      expect(exited).toMatchObject({ state: 'EXITED', exitCode: 7, reason: 'Error', pid: 0 });
      expect(exited.startedAtNs).toBeGreaterThanOrEqual(created.createdAtNs);
      expect(exited.finishedAtNs).toBeGreaterThanOrEqual(exited.startedAtNs);

      const ok = await c.createContainer(
        podId,
        containerConfig({ name: 'ok', command: ['true'] }),
        pod,
      );
      await c.startContainer(ok);
      while ((await c.containerStatus(ok)).state !== 'EXITED')
        await new Promise((r) => setTimeout(r, 20));
      expect(await c.containerStatus(ok)).toMatchObject({ exitCode: 0, reason: 'Completed' });

      const killed = await c.createContainer(podId, containerConfig({ name: 'killed' }), pod);
      await c.startContainer(killed);
      await c.stopContainer(killed, 0);
      expect(await c.containerStatus(killed)).toMatchObject({
        state: 'EXITED',
        exitCode: 137,
        reason: 'Error',
      });
    },
  );

  it.skipIf(skip)("stops a pod's containers with the pod and removes them with it", async () => {
    const c = await open();
    const events: LifecycleEvent[] = [];
    c.onEvent((e) => events.push(e));
    const pod = podConfig();
    const podId = await c.runPodSandbox(pod, '');
    const a = await c.createContainer(podId, containerConfig({ name: 'a' }), pod);
    const b = await c.createContainer(podId, containerConfig({ name: 'b' }), pod);
    await c.startContainer(a);
    await c.startContainer(b);
    const pids = [(await c.containerStatus(a)).pid, (await c.containerStatus(b)).pid];
    await c.stopPodSandbox(podId);
    expect((await c.podSandboxStatus(podId)).state).toBe('NOTREADY');
    for (const id of [a, b]) expect((await c.containerStatus(id)).state).toBe('EXITED');
    if (name === 'process') for (const pid of pids) expect(pidAlive(pid)).toBe(false);
    await c.removePodSandbox(podId);
    expect(await c.listContainers({ podId })).toEqual([]);
    expect(await c.listPodSandbox({ id: podId })).toEqual([]);

    // Removing a READY pod with a running container stops and removes everything (as containerd).
    const pod2 = podConfig();
    const pod2Id = await c.runPodSandbox(pod2, '');
    const r = await c.createContainer(pod2Id, containerConfig(), pod2);
    await c.startContainer(r);
    await c.removePodSandbox(pod2Id);
    expect(await c.listContainers({})).toEqual([]);
    expect(await c.listPodSandbox()).toEqual([]);

    const kinds = events.filter((e) => e.id === a || e.id === podId).map((e) => e.kind);
    expect(kinds).toEqual([
      'pod_created',
      'container_created',
      'container_started',
      'container_exited',
      'pod_stopped',
      'container_removed',
      'pod_removed',
    ]);
  });

  it.skipIf(skip)('lists pods and containers by id, pod, state and labels', async () => {
    const c = await open();
    const podA = podConfig({ labels: { app: 'a', tier: 'web' } });
    const podB = podConfig({ labels: { app: 'b' } });
    const a = await c.runPodSandbox(podA, '');
    const b = await c.runPodSandbox(podB, '');
    const a1 = await c.createContainer(
      a,
      containerConfig({ name: 'a1', labels: { role: 'x' } }),
      podA,
    );
    const a2 = await c.createContainer(
      a,
      containerConfig({ name: 'a2', labels: { role: 'y' } }),
      podA,
    );
    const b1 = await c.createContainer(
      b,
      containerConfig({ name: 'b1', labels: { role: 'x' } }),
      podB,
    );
    await c.startContainer(a1);
    await c.stopPodSandbox(b);
    const ids = (list: { id: string }[]): string[] => list.map((x) => x.id).sort();
    expect(ids(await c.listPodSandbox())).toEqual([a, b].sort());
    expect(ids(await c.listPodSandbox({ id: a }))).toEqual([a]);
    expect(ids(await c.listPodSandbox({ state: 'NOTREADY' }))).toEqual([b]);
    expect(ids(await c.listPodSandbox({ labelSelector: { app: 'a' } }))).toEqual([a]);
    expect(ids(await c.listPodSandbox({ labelSelector: { app: 'a', tier: 'db' } }))).toEqual([]);
    expect(ids(await c.listContainers({ podId: a }))).toEqual([a1, a2].sort());
    expect(ids(await c.listContainers({ state: 'RUNNING' }))).toEqual([a1]);
    expect(ids(await c.listContainers({ labelSelector: { role: 'x' } }))).toEqual([a1, b1].sort());
    expect(ids(await c.listContainers({ id: a2, podId: a }))).toEqual([a2]);
    expect(ids(await c.listContainers({ id: a2, podId: b }))).toEqual([]);
    expect(ids(await c.listContainers({ state: 'CREATED', podId: a }))).toEqual([a2]);
    expect((await c.podSandboxStatus(a)).config.labels).toEqual({ app: 'a', tier: 'web' });
    expect((await c.containerStatus(a1)).config.labels).toEqual({ role: 'x' });
  });

  it.skipIf(skip)('reports its version and readiness', async () => {
    const c = await open();
    expect(await c.version()).toEqual({
      version: '0.1.0',
      runtimeName: 'churn-core',
      runtimeVersion: expect.any(String) as string,
      runtimeApiVersion: 'v1',
    });
    const { conditions, info } = await c.status();
    expect(conditions.map((x) => [x.type, x.status])).toEqual([
      ['RuntimeReady', true],
      ['NetworkReady', true],
    ]);
    // The cri driver falls back on this to find `churn serve`'s pid.
    expect(info).toMatchObject({ executor: name, pid: String(process.pid) });
  });
});
