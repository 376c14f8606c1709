/**
 * The CRI differential test: one sequence of CRI calls, legal and illegal, sent to containerd
 * and to `churn serve --compat containerd`, must give the same gRPC status codes and leave the
 * same states. Where containerd's answer is the odd one, the core follows it (see
 * src/runtime/lifecycle.ts, which names every such case). The same sequence sent to CRI-O must
 * give the core's answers except where CRI-O differs from containerd: those steps are listed
 * (crioDifferences) with CRI-O's answer. A second sequence removes an image that containers still
 * use, on an image made for the run, and must give containerd's answers too.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importArchive } from '../../scripts/containerd.js';
import { buildOciArchive, busyboxLayer, type BuiltArchive } from '../../scripts/oci-image.js';
import { isChurnError } from '../../src/common/errors.js';
import { CriClient } from '../../src/cri/client.js';
import type { PodSandboxConfig } from '../../src/cri/generated/runtime/v1/PodSandboxConfig.js';
import type { ContainerConfig } from '../../src/cri/generated/runtime/v1/ContainerConfig.js';
import { startServe } from '../support/churn-process.js';
import { containerdForTests } from '../support/containerd.js';
import { crioForTests } from '../support/crio.js';
import { tempDir } from '../support/core-fixtures.js';

const containerd = await containerdForTests();
afterAll(() => containerd.release());
const crio = await crioForTests();
afterAll(() => crio.release());

/** One observed step: its name, the status code, and what it showed. */
interface Observation {
  readonly step: string;
  readonly code: string;
  readonly seen?: unknown;
}

async function outcome<T>(call: Promise<T>): Promise<{ code: string; value: T | undefined }> {
  try {
    return { code: 'OK', value: await call };
  } catch (err) {
    if (isChurnError(err)) return { code: err.code, value: undefined };
    throw err;
  }
}

/**
 * A step recorder writing to `log`: `step(name, call, see)` awaits `call` and records its code
 * and, when it succeeded, what `see` makes of its value; it returns the value.
 */
function stepInto(
  log: Observation[],
): <T>(name: string, call: Promise<T>, see?: (value: T) => unknown) => Promise<T | undefined> {
  return async (name, call, see) => {
    const { code, value } = await outcome(call);
    log.push({
      step: name,
      code,
      ...(value !== undefined && see !== undefined ? { seen: see(value) } : {}),
    });
    return value;
  };
}

/**
 * The sequence. Ids differ between runtimes, so observations hold only codes, states and
 * what must be equal (exit codes, exec output, counts).
 */
async function runSequence(
  client: CriClient,
  runId: string,
  image: string,
): Promise<Observation[]> {
  const log: Observation[] = [];
  const labels = { 'churn.test/run': runId };
  const podConfig = (name: string, attempt: number): PodSandboxConfig => ({
    metadata: { name, uid: `${runId}-${name}`, namespace: 'churn-differential', attempt },
    labels,
    linux: {
      securityContext: { namespaceOptions: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } },
    },
  });
  const containerConfig = (name: string, attempt = 0): ContainerConfig => ({
    metadata: { name, attempt },
    image: { image },
    command: ['sleep', '3600'],
    labels,
    linux: {
      securityContext: { namespaceOptions: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } },
    },
  });
  const step = stepInto(log);
  const rt = client.runtime.bind(client);
  const containerState = (id: string): Promise<unknown> =>
    outcome(rt('ContainerStatus', { containerId: id })).then((o) =>
      o.value === undefined
        ? o.code
        : { state: o.value.status?.state, exitCode: o.value.status?.exitCode },
    );
  const podState = (id: string): Promise<unknown> =>
    outcome(rt('PodSandboxStatus', { podSandboxId: id })).then((o) =>
      o.value === undefined ? o.code : o.value.status?.state,
    );
  const observe = async (name: string, value: Promise<unknown>): Promise<void> => {
    log.push({ step: name, code: 'OK', seen: await value });
  };

  const a = podConfig('pod-a', 0);
  const podA =
    (await step('RunPodSandbox pod-a', rt('RunPodSandbox', { config: a })))?.podSandboxId ?? '';
  await step(
    'RunPodSandbox pod-a again (duplicate name and attempt)',
    rt('RunPodSandbox', { config: a }),
  );
  const a1 = podConfig('pod-a', 1);
  const podA1 =
    (await step('RunPodSandbox pod-a attempt 1', rt('RunPodSandbox', { config: a1 })))
      ?.podSandboxId ?? '';
  await observe('pod-a state', podState(podA));

  const create = (
    pod: string,
    config: PodSandboxConfig,
    c: ContainerConfig,
  ): Promise<{ containerId: string }> =>
    rt('CreateContainer', { podSandboxId: pod, config: c, sandboxConfig: config });
  const c1 =
    (await step('CreateContainer c1', create(podA, a, containerConfig('c1'))))?.containerId ?? '';
  await observe('c1 state after create', containerState(c1));
  await step(
    'CreateContainer c1 again (duplicate name and attempt)',
    create(podA, a, containerConfig('c1')),
  );
  await step('StartContainer c1', rt('StartContainer', { containerId: c1 }));
  await step('StartContainer c1 again (start twice)', rt('StartContainer', { containerId: c1 }));
  await observe('c1 state after start', containerState(c1));
  await step(
    'ExecSync in c1',
    rt('ExecSync', {
      containerId: c1,
      cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'],
      timeout: 10,
    }),
    (r) => ({ stdout: r.stdout.toString(), stderr: r.stderr.toString(), exitCode: r.exitCode }),
  );
  await step(
    'RemoveContainer c1 while running (no stop)',
    rt('RemoveContainer', { containerId: c1 }),
  );
  await observe('c1 after remove while running', containerState(c1));

  await step(
    'ContainerStatus of an unknown id',
    rt('ContainerStatus', { containerId: 'unknown-container-id' }),
  );
  await step(
    'StartContainer of an unknown id',
    rt('StartContainer', { containerId: 'unknown-container-id' }),
  );
  await step(
    'StopContainer of an unknown id',
    rt('StopContainer', { containerId: 'unknown-container-id', timeout: 0 }),
  );
  await step(
    'RemoveContainer of an unknown id',
    rt('RemoveContainer', { containerId: 'unknown-container-id' }),
  );
  await step(
    'PodSandboxStatus of an unknown id',
    rt('PodSandboxStatus', { podSandboxId: 'unknown-pod-id' }),
  );
  await step(
    'StopPodSandbox of an unknown id',
    rt('StopPodSandbox', { podSandboxId: 'unknown-pod-id' }),
  );
  await step(
    'RemovePodSandbox of an unknown id',
    rt('RemovePodSandbox', { podSandboxId: 'unknown-pod-id' }),
  );

  const c2 =
    (await step('CreateContainer c2', create(podA, a, containerConfig('c2'))))?.containerId ?? '';
  await step('StartContainer c2', rt('StartContainer', { containerId: c2 }));
  await step('StopContainer c2', rt('StopContainer', { containerId: c2, timeout: 0 }));
  await observe('c2 state after stop', containerState(c2));
  await step(
    'StopContainer c2 again (already exited)',
    rt('StopContainer', { containerId: c2, timeout: 0 }),
  );
  await step('StartContainer c2 (exited)', rt('StartContainer', { containerId: c2 }));
  await step(
    'ExecSync in c2 (exited)',
    rt('ExecSync', { containerId: c2, cmd: ['true'], timeout: 5 }),
  );
  await step('RemoveContainer c2', rt('RemoveContainer', { containerId: c2 }));
  await observe('c2 after remove', containerState(c2));

  const c3 =
    (await step('CreateContainer c3 (left CREATED)', create(podA, a, containerConfig('c3'))))
      ?.containerId ?? '';
  await step(
    'StopContainer c3 (created, never started)',
    rt('StopContainer', { containerId: c3, timeout: 0 }),
  );
  await observe('c3 state after stop', containerState(c3));
  await step('StopPodSandbox pod-a', rt('StopPodSandbox', { podSandboxId: podA }));
  await observe('pod-a state after stop', podState(podA));
  await observe('c3 state after pod stop', containerState(c3));
  await step('CreateContainer c4 in the stopped pod', create(podA, a, containerConfig('c4')));
  await step('StartContainer c3 in the stopped pod', rt('StartContainer', { containerId: c3 }));
  await step('StopPodSandbox pod-a again', rt('StopPodSandbox', { podSandboxId: podA }));
  await step(
    'ListPodSandbox NOTREADY with the run label',
    rt('ListPodSandbox', {
      filter: { state: { state: 'SANDBOX_NOTREADY' }, labelSelector: labels },
    }),
    (r) => r.items.length,
  );
  await step('RemovePodSandbox pod-a', rt('RemovePodSandbox', { podSandboxId: podA }));
  await observe('pod-a after remove', podState(podA));
  await observe('c3 after pod remove', containerState(c3));
  await step(
    'ListContainers of the removed pod',
    rt('ListContainers', { filter: { podSandboxId: podA } }),
    (r) => r.containers.length,
  );

  const c5 =
    (await step('CreateContainer c5 in pod-a attempt 1', create(podA1, a1, containerConfig('c5'))))
      ?.containerId ?? '';
  await step('StartContainer c5', rt('StartContainer', { containerId: c5 }));
  await step(
    'RemovePodSandbox pod-a attempt 1 while READY and running',
    rt('RemovePodSandbox', { podSandboxId: podA1 }),
  );
  await observe('pod-a attempt 1 after remove', podState(podA1));
  await step('StopPodSandbox of the removed pod', rt('StopPodSandbox', { podSandboxId: podA1 }));

  await step(
    'ListPodSandbox with the run label',
    rt('ListPodSandbox', { filter: { labelSelector: labels } }),
    (r) => r.items.length,
  );
  await step(
    'ListContainers with the run label',
    rt('ListContainers', { filter: { labelSelector: labels } }),
    (r) => r.containers.length,
  );
  await step(
    'ImageStatus of an absent image',
    client.image('ImageStatus', { image: { image: 'docker.io/library/absent:none' } }),
    (r) => r.image,
  );
  await step(
    'ImageStatus of the test image',
    client.image('ImageStatus', { image: { image } }),
    (r) => r.image?.repoTags.includes(image),
  );
  return log;
}

/**
 * The image-removal sequence, as containerd 1.6 answers it: RemoveImage of an image containers
 * use succeeds; the image is gone from ImageStatus and ListImages and no new container can
 * name it, while the containers made before run, exec, start, stop and go; loading it again
 * brings it back. `load` puts `built` into the runtime (ctr import, or PullImage from churn's
 * archive directory).
 */
async function runImageRemovalSequence(
  client: CriClient,
  runId: string,
  built: BuiltArchive,
  load: () => Promise<void>,
): Promise<Observation[]> {
  const log: Observation[] = [];
  const labels = { 'churn.test/run': runId };
  const [tag = ''] = built.refs;
  const namespaceOptions = { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } as const;
  const pod: PodSandboxConfig = {
    metadata: { name: 'pod-rmi', uid: `${runId}-rmi`, namespace: 'churn-differential', attempt: 0 },
    labels,
    linux: { securityContext: { namespaceOptions } },
  };
  const containerConfig = (name: string, image: string): ContainerConfig => ({
    metadata: { name, attempt: 0 },
    image: { image },
    command: ['sleep', '3600'],
    labels,
    linux: { securityContext: { namespaceOptions } },
  });
  const step = stepInto(log);
  const rt = client.runtime.bind(client);
  const img = client.image.bind(client);
  const create = (name: string, image: string): Promise<{ containerId: string }> =>
    rt('CreateContainer', {
      podSandboxId: podId,
      config: containerConfig(name, image),
      sandboxConfig: pod,
    });
  const status = (id: string): Promise<unknown> =>
    rt('ContainerStatus', { containerId: id }).then((r) => ({
      state: r.status?.state,
      image: r.status?.image?.image === tag,
      imageRef: r.status?.imageRef === built.imageId,
    }));
  const listed = (): Promise<boolean> =>
    img('ListImages', {}).then((r) => r.images.some((i) => i.id === built.imageId));

  await load();
  const podId =
    (await step('RunPodSandbox pod-rmi', rt('RunPodSandbox', { config: pod })))?.podSandboxId ?? '';
  const u1 = (await step('CreateContainer u1 by tag', create('u1', tag)))?.containerId ?? '';
  await step('StartContainer u1', rt('StartContainer', { containerId: u1 }));
  const u2 =
    (await step('CreateContainer u2 by id (left CREATED)', create('u2', built.imageId)))
      ?.containerId ?? '';
  await step('RemoveImage by tag while u1 runs', img('RemoveImage', { image: { image: tag } }));
  await step('ImageStatus by tag', img('ImageStatus', { image: { image: tag } }), (r) => r.image);
  await step(
    'ImageStatus by id',
    img('ImageStatus', { image: { image: built.imageId } }),
    (r) => r.image,
  );
  await step('ListImages has it', listed(), (v) => v);
  await step('CreateContainer u3 by the removed tag', create('u3', tag));
  await step('CreateContainer u4 by the removed id', create('u4', built.imageId));
  await step('ContainerStatus u1', status(u1), (v) => v);
  await step(
    'ExecSync in u1',
    rt('ExecSync', { containerId: u1, cmd: ['sh', '-c', 'echo alive'], timeout: 10 }),
    (r) => ({ stdout: r.stdout.toString(), exitCode: r.exitCode }),
  );
  await step(
    'StartContainer u2 (created before the removal)',
    rt('StartContainer', { containerId: u2 }),
  );
  await step('ContainerStatus u2', status(u2), (v) => v);
  await step('RemoveImage by tag again', img('RemoveImage', { image: { image: tag } }));
  await step('RemoveImage by id', img('RemoveImage', { image: { image: built.imageId } }));
  await step('StopContainer u1', rt('StopContainer', { containerId: u1, timeout: 0 }));
  await step('RemoveContainer u1', rt('RemoveContainer', { containerId: u1 }));
  await load();
  await step(
    'ImageStatus by tag after loading it again',
    img('ImageStatus', { image: { image: tag } }),
    (r) => ({ id: r.image?.id === built.imageId, tagged: r.image?.repoTags.includes(tag) }),
  );
  const u5 = (await step('CreateContainer u5 by tag', create('u5', tag)))?.containerId ?? '';
  await step('StartContainer u5', rt('StartContainer', { containerId: u5 }));
  await step(
    'RemoveImage by tag while u2 and u5 run',
    img('RemoveImage', { image: { image: tag } }),
  );
  await step('StopPodSandbox pod-rmi', rt('StopPodSandbox', { podSandboxId: podId }));
  await step('RemovePodSandbox pod-rmi', rt('RemovePodSandbox', { podSandboxId: podId }));
  await step('ListImages has it at the end', listed(), (v) => v);
  await step(
    'ListContainers with the run label',
    rt('ListContainers', { filter: { labelSelector: labels } }),
    (r) => r.containers.length,
  );
  return log;
}

/** An image made for one run: busybox and a file naming the run, so its id is the run's own. */
async function runImage(dir: string, runId: string): Promise<BuiltArchive> {
  return buildOciArchive({
    layers: [
      await busyboxLayer(),
      { entries: [{ path: 'etc/churn-run', type: 'file', content: runId }] },
    ],
    config: { cmd: ['sh'] },
    refs: [`docker.io/churn/rmi-differential:${runId}`],
    out: join(dir, 'rmi-differential.tar'),
  });
}

/** Removes whatever a failed sequence left (by label); best effort. */
async function sweep(client: CriClient, runId: string): Promise<void> {
  const labels = { 'churn.test/run': runId };
  const { items } = await client.runtime('ListPodSandbox', { filter: { labelSelector: labels } });
  for (const pod of items) {
    await client.runtime('StopPodSandbox', { podSandboxId: pod.id }).catch(() => undefined);
    await client.runtime('RemovePodSandbox', { podSandboxId: pod.id }).catch(() => undefined);
  }
}

/** A sequence of calls sent to one runtime; `runId` labels what it makes. */
type Sequence = (client: CriClient, runId: string) => Promise<Observation[]>;

/** The sequence as containerd answers it: run once, compared with each executor of the core. */
let fromContainerd: Promise<Observation[]> | undefined;

function containerdAnswers(image: string): Promise<Observation[]> {
  fromContainerd ??= daemonAnswers('containerd', containerd.endpoint, (client, runId) =>
    runSequence(client, runId, image),
  );
  return fromContainerd;
}

/** Runs `sequence` against a runtime daemon at `endpoint`, then sweeps what it left. */
async function daemonAnswers(
  name: string,
  endpoint: string,
  sequence: Sequence,
): Promise<Observation[]> {
  const runId = `diff-${name}-${process.pid}-${Date.now()}`;
  const client = new CriClient(endpoint, { callTimeoutMs: 60_000 });
  try {
    return await sequence(client, runId);
  } finally {
    await sweep(client, runId).catch(() => undefined);
    client.close();
  }
}

/** Runs the sequence against a fresh `churn serve --compat containerd --executor <executor>`. */
function churnServeAnswers(executor: string, image: string): Promise<Observation[]> {
  return churnServeRuns(executor, containerd.imagesDir, async (client, runId) => {
    await client.image('PullImage', { image: { image } });
    return runSequence(client, runId, image);
  });
}

/**
 * Runs `sequence` against a fresh `churn serve --compat containerd --executor <executor>`
 * pulling from `imagesDir`, then sweeps what it left and stops it.
 */
async function churnServeRuns(
  executor: string,
  imagesDir: string,
  sequence: Sequence,
): Promise<Observation[]> {
  const runId = `diff-churn-${executor}-${process.pid}-${Date.now()}`;
  const dir = await tempDir('churn-diff-');
  const socket = join(dir, 'churn.sock');
  const serve = await startServe(
    [
      '--socket',
      socket,
      '--state-dir',
      join(dir, 'state'),
      '--executor',
      executor,
      '--images',
      imagesDir,
      '--compat',
      'containerd',
    ],
    dir,
  );
  expect(serve.stdout(), serve.stderr()).toContain('listening on');
  const client = new CriClient(`unix://${socket}`, { callTimeoutMs: 60_000 });
  try {
    return await sequence(client, runId);
  } finally {
    await sweep(client, runId).catch(() => undefined);
    client.close();
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  }
}

describe.skipIf(containerd.skipReason !== undefined)(
  'CRI differential: churn serve vs containerd',
  () => {
    it.each(['process', 'runc'])(
      'churn serve --executor %s answers the same legal and illegal calls with the same codes and states',
      async (executor) => {
        const image = containerd.busyboxRef;
        const expected = await containerdAnswers(image);
        const actual = await churnServeAnswers(executor, image);
        if (process.env['CHURN_SHOW_DIFFERENTIAL'] === '1') console.table(expected);
        // Same steps, same codes, same observations: the diff shows any step that differs.
        expect(actual).toEqual(expected);
        // The run's label finds nothing afterwards, on either side.
        const byStep = new Map(expected.map((o) => [o.step, o.seen]));
        expect(byStep.get('ListPodSandbox with the run label')).toBe(0);
        expect(byStep.get('ListContainers with the run label')).toBe(0);
      },
    );
  },
);

describe.skipIf(containerd.skipReason !== undefined)(
  'CRI differential: removing an image containers use, churn serve vs containerd',
  () => {
    /** The removal sequence as containerd answers it, on an image of the describe's own. */
    let fromContainerdRmi: Promise<Observation[]> | undefined;
    let dir = '';
    let built: BuiltArchive | undefined;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'churn-diff-rmi-'));
      built = await runImage(dir, `${process.pid}-${Date.now()}`);
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it.each(['process', 'runc'])(
      'churn serve --executor %s removes it as containerd does: at once, kept for its containers',
      async (executor) => {
        if (built === undefined) throw new Error('the run image was not built');
        const image = built;
        const [tag = ''] = image.refs;
        fromContainerdRmi ??= daemonAnswers('containerd-rmi', containerd.endpoint, (client, id) =>
          runImageRemovalSequence(client, id, image, () =>
            importArchive(image.out, 'k8s.io', containerd.paths.socket),
          ),
        );
        const expected = await fromContainerdRmi;
        const actual = await churnServeRuns(executor, dir, (client, id) =>
          runImageRemovalSequence(client, id, image, async () => {
            await client.image('PullImage', { image: { image: tag } });
          }),
        );
        if (process.env['CHURN_SHOW_DIFFERENTIAL'] === '1') console.table(expected);
        expect(actual).toEqual(expected);
        // What the sequence relies on, as containerd showed it.
        const byStep = new Map(expected.map((o) => [o.step, o]));
        expect(byStep.get('RemoveImage by tag while u1 runs')?.code).toBe('OK');
        expect(byStep.get('CreateContainer u3 by the removed tag')?.code).toBe('NOT_FOUND');
        expect(byStep.get('ListContainers with the run label')?.seen).toBe(0);
      },
    );
  },
);

/**
 * Where CRI-O 1.26.4 answers the sequence differently from containerd 1.6.20 (and so from the
 * core, which follows containerd): CRI-O's answer, and what it does. Seen here, in every run.
 */
const crioDifferences: Readonly<
  Record<string, { readonly code: string; readonly seen?: unknown }>
> = {
  // Idempotent for the kubelet's retries: a duplicate name and attempt returns the existing
  // sandbox or container instead of failing on the reserved name.
  'RunPodSandbox pod-a again (duplicate name and attempt)': { code: 'OK' },
  'CreateContainer c1 again (duplicate name and attempt)': { code: 'OK' },
  // Unknown ids: removing a container is NOT_FOUND, stopping a pod (unknown or removed) is OK.
  'RemoveContainer of an unknown id': { code: 'NOT_FOUND' },
  'StopPodSandbox of an unknown id': { code: 'OK' },
  'StopPodSandbox of the removed pod': { code: 'OK' },
  // Exec in an exited container: NOT_FOUND ("container is not created or running").
  'ExecSync in c2 (exited)': { code: 'NOT_FOUND' },
  // Stopping a container that never started marks it exited (137), and it stays so.
  'c3 state after stop': { code: 'OK', seen: { state: 'CONTAINER_EXITED', exitCode: 137 } },
  'c3 state after pod stop': { code: 'OK', seen: { state: 'CONTAINER_EXITED', exitCode: 137 } },
  // Creating in a stopped pod: UNKNOWN ("sandbox ... is stopped"), not NOT_FOUND.
  'CreateContainer c4 in the stopped pod': { code: 'UNKNOWN' },
};

describe.skipIf(containerd.skipReason !== undefined || crio.skipReason !== undefined)(
  'CRI differential: churn serve vs CRI-O',
  () => {
    it('CRI-O answers as the core does, except where it differs from containerd (listed)', async () => {
      const image = containerd.busyboxRef;
      const core = await churnServeAnswers('runc', image);
      const actual = await daemonAnswers('crio', crio.endpoint, (client, runId) =>
        runSequence(client, runId, image),
      );
      if (process.env['CHURN_SHOW_DIFFERENTIAL'] === '1') console.table(actual);
      const expected = core.map((o): Observation => {
        const differs = crioDifferences[o.step];
        return differs === undefined ? o : { step: o.step, ...differs };
      });
      expect(actual).toEqual(expected);
      // Every listed difference is one: an entry the core now shares is stale.
      for (const o of core) {
        if (o.step in crioDifferences)
          expect(o, o.step).not.toEqual({ step: o.step, ...crioDifferences[o.step] });
      }
    });
  },
);
