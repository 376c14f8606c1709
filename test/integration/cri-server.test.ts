/**
 * The built-in core served over CRI (in-process server, temp unix socket) and driven by the
 * cri driver and a raw CRI client: full cycles, errors by gRPC code, request validation at the
 * edge, exact int64 timestamps, every ImageService RPC, socket safety, reconnect after a
 * restart, graceful shutdown.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { lstat, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildBusyboxArchive } from '../../scripts/oci-image.js';
import { isChurnError } from '../../src/common/errors.js';
import { CriClient } from '../../src/cri/client.js';
import { CriServer } from '../../src/cri/server.js';
import { CriDriver } from '../../src/drivers/cri.js';
import { hostImageId } from '../../src/runtime/images/host-image.js';
import { eventually, processesWithMarker, tempDir } from '../support/core-fixtures.js';
import { serveCore } from '../support/cri-serve.js';
import { codeOf } from '../support/error-code.js';
import { containerSpec, podSpec, startedContainer } from '../support/driver-specs.js';

const cleanup = (fn: () => Promise<void>): void => onTestFinished(fn);

function driverFor(endpoint: string, callTimeoutMs = 10_000): CriDriver {
  const driver = new CriDriver({ endpoint, runtimeHandler: '', callTimeoutMs });
  onTestFinished(() => driver.close());
  return driver;
}

function clientFor(endpoint: string): CriClient {
  const client = new CriClient(endpoint, { callTimeoutMs: 10_000 });
  onTestFinished(() => client.close());
  return client;
}

describe('churn serve in-process, driven by the cri driver', () => {
  it('reports the core through Version and runs full cycles, concurrently, leaving nothing', async () => {
    const served = await serveCore(cleanup);
    const driver = driverFor(served.endpoint);
    const info = await driver.connect();
    expect(info).toMatchObject({
      runtimeName: 'churn-core',
      runtimeApiVersion: 'v1',
      runtimeHandler: '',
    });
    expect(info.runtimeVersion).toBe('0.1.0+process');
    // The server's pid, for resource sampling: this process serves it here.
    expect(info.pid).toBe(process.pid);
    await driver.pullImage('host');

    const labels = { 'churn.run': 'cycles-1' };
    await Promise.all(
      [0, 1, 2, 3].map(async (worker) => {
        for (let i = 0; i < 3; i++) {
          const pod = podSpec(`w${worker}-${i}`, { labels });
          const podId = await driver.runPod(pod);
          const id = await driver.createContainer(podId, pod, containerSpec({ labels }));
          expect((await driver.containerStatus(id)).state).toBe('CREATED');
          await driver.startContainer(id);
          const running = await driver.containerStatus(id);
          expect(running).toMatchObject({ id, podId, name: 'c', state: 'RUNNING' });
          await driver.stopContainer(id, 0);
          const exited = await driver.containerStatus(id);
          expect(exited.state).toBe('EXITED');
          expect(exited.exitCode).toBe(137);
          await driver.removeContainer(id);
          await driver.stopPod(podId);
          await driver.removePod(podId);
        }
      }),
    );
    expect(await driver.listPods({ labelSelector: labels })).toEqual([]);
    expect(await driver.listContainers({ labelSelector: labels })).toEqual([]);
  });

  it('lists by label and pod, and exec returns exact output and exit code', async () => {
    const served = await serveCore(cleanup);
    const driver = driverFor(served.endpoint);
    await driver.connect();
    const mine = { 'churn.run': 'mine' };
    const pod = podSpec('lister', { labels: mine });
    const podId = await driver.runPod(pod);
    const other = await driver.runPod(podSpec('other', { labels: { 'churn.run': 'other' } }));
    const id = await driver.createContainer(podId, pod, containerSpec({ labels: mine }));
    await driver.startContainer(id);

    expect((await driver.listPods({ labelSelector: mine })).map((p) => p.id)).toEqual([podId]);
    expect((await driver.listPods({ podId: other })).map((p) => p.state)).toEqual(['READY']);
    expect((await driver.listContainers({ podId })).map((c) => c.id)).toEqual([id]);
    expect(await driver.listContainers({ podId: other })).toEqual([]);

    const out = await driver.exec(id, ['sh', '-c', 'printf "a\\nb"; printf err >&2; exit 7'], 10);
    expect(out).toEqual({ exitCode: 7, stdout: 'a\nb', stderr: 'err' });
    await driver.stopPod(podId);
    expect((await driver.containerStatus(id)).state).toBe('EXITED');
    await driver.removePod(podId);
    await driver.removePod(other);
  });

  it('fails with the gRPC code name of the core error', async () => {
    const served = await serveCore(cleanup);
    const driver = driverFor(served.endpoint);
    await driver.connect();
    expect(await codeOf(driver.startContainer('no-such-container'))).toBe('NOT_FOUND');
    expect(await codeOf(driver.containerStatus('no-such-container'))).toBe('NOT_FOUND');
    const pod = podSpec('dup');
    const podId = await driver.runPod(pod);
    expect(await codeOf(driver.runPod(pod))).toBe('ALREADY_EXISTS');
    const id = await driver.createContainer(podId, pod, containerSpec());
    await driver.startContainer(id);
    expect(await codeOf(driver.startContainer(id))).toBe('FAILED_PRECONDITION');
    // CRI: a running container is removed by force.
    expect(await codeOf(driver.removeContainer(id))).toBe('OK');
    await driver.stopPod(podId);
    expect(await codeOf(driver.createContainer(podId, pod, containerSpec({ name: 'd' })))).toBe(
      'FAILED_PRECONDITION',
    );
    // Stop and remove of unknown ids succeed, as CRI requires.
    expect(await codeOf(driver.stopContainer('no-such-container', 0))).toBe('OK');
    expect(await codeOf(driver.removeContainer('no-such-container'))).toBe('OK');
    expect(await codeOf(driver.removePod('no-such-pod'))).toBe('OK');
    await driver.removePod(podId);
  });

  it('refuses malformed requests with INVALID_ARGUMENT naming the field', async () => {
    const served = await serveCore(cleanup);
    const client = clientFor(served.endpoint);
    const invalid = async (promise: Promise<unknown>): Promise<string> => {
      try {
        await promise;
      } catch (err) {
        expect(isChurnError(err, 'INVALID_ARGUMENT')).toBe(true);
        return (err as Error).message;
      }
      throw new Error('expected INVALID_ARGUMENT');
    };
    expect(await invalid(client.runtime('RunPodSandbox', {}))).toContain(
      'RunPodSandbox: config must be set',
    );
    expect(
      await invalid(client.runtime('RunPodSandbox', { config: { metadata: { uid: 'u' } } })),
    ).toContain('config.metadata.name must be set');
    expect(await invalid(client.runtime('StartContainer', {}))).toContain(
      'container_id must be set',
    );
    expect(await invalid(client.runtime('StopPodSandbox', {}))).toContain(
      'pod_sandbox_id must be set',
    );
    expect(
      await invalid(
        client.runtime('CreateContainer', {
          podSandboxId: 'p',
          config: { metadata: { name: 'c' } },
        }),
      ),
    ).toContain('config.image.image must be set');
    expect(await invalid(client.runtime('ExecSync', { containerId: 'x', cmd: [] }))).toContain(
      'cmd must not be empty',
    );
    expect(await invalid(client.image('PullImage', {}))).toContain('image.image must be set');
  });

  it("answers a verbose Status with readiness and the server's pid in info", async () => {
    const served = await serveCore(cleanup);
    const { status, info } = await clientFor(served.endpoint).runtime('Status', { verbose: true });
    expect(status?.conditions.map((c) => [c.type, c.status])).toEqual([
      ['RuntimeReady', true],
      ['NetworkReady', true],
    ]);
    expect(info).toMatchObject({ executor: 'process', pid: String(process.pid) });
  });

  it('keeps int64 nanosecond timestamps exact end to end', async () => {
    const served = await serveCore(cleanup);
    const driver = driverFor(served.endpoint);
    const client = clientFor(served.endpoint);
    await driver.connect();
    const { podId, id } = await startedContainer(driver, 'times', ['sh', '-c', 'exit 3']);
    const core = served.core;
    for (let i = 0; i < 100 && (await core.containerStatus(id)).state !== 'EXITED'; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const inCore = await core.containerStatus(id);
    expect(inCore.state).toBe('EXITED');
    const { status } = await client.runtime('ContainerStatus', { containerId: id });
    expect(status).not.toBeNull();
    expect(BigInt(status!.createdAt)).toBe(inCore.createdAtNs);
    expect(BigInt(status!.startedAt)).toBe(inCore.startedAtNs);
    expect(BigInt(status!.finishedAt)).toBe(inCore.finishedAtNs);
    expect(inCore.finishedAtNs).toBeGreaterThan(2n ** 53n); // beyond what a double holds exactly
    expect(status).toMatchObject({ exitCode: 3, state: 'CONTAINER_EXITED' });
    const podInCore = await core.podSandboxStatus(podId);
    const listed = await client.runtime('ListPodSandbox', { filter: { id: podId } });
    expect(listed.items.map((p) => BigInt(p.createdAt))).toEqual([podInCore.createdAtNs]);
    const stats = await client.runtime('ListContainerStats', {});
    expect(stats.stats.every((s) => BigInt(s.cpu?.timestamp ?? '0') > 2n ** 53n)).toBe(true);
    await driver.removePod(podId);
  });

  it('serves ListImages, RemoveImage and ImageFsInfo as the core answers them', async () => {
    const archives = await tempDir();
    const built = await buildBusyboxArchive(join(archives, 'bb.tar'), ['busybox:wire']);
    const served = await serveCore(cleanup, { imagesDir: archives });
    const client = clientFor(served.endpoint);
    const listed = async (image?: string): Promise<string[]> => {
      const request = image === undefined ? {} : { filter: { image: { image } } };
      return (await client.image('ListImages', request)).images.map((i) => i.id).sort();
    };
    const fsUsage = async (): Promise<{ usedBytes: bigint; inodesUsed: bigint }> => {
      const { imageFilesystems, containerFilesystems } = await client.image('ImageFsInfo', {});
      expect(containerFilesystems).toEqual([]);
      expect(imageFilesystems).toHaveLength(1);
      const [usage] = imageFilesystems;
      const [inCore] = await served.core.imageFsInfo();
      expect(usage!.fsId?.mountpoint).toBe(inCore!.mountpoint);
      expect(BigInt(usage!.timestamp)).toBeGreaterThan(2n ** 53n); // int64 ns, exact
      return {
        usedBytes: BigInt(usage!.usedBytes?.value ?? '-1'),
        inodesUsed: BigInt(usage!.inodesUsed?.value ?? '-1'),
      };
    };

    // Before any pull: the built-in host image only, and an empty content store.
    expect(await listed()).toEqual([hostImageId]);
    const empty = await fsUsage();
    expect(empty).toEqual({ usedBytes: 0n, inodesUsed: 0n });

    const { imageRef } = await client.image('PullImage', { image: { image: 'busybox:wire' } });
    expect(imageRef).toBe(built.imageId);
    expect(await listed()).toEqual([built.imageId, hostImageId].sort());
    const { images } = await client.image('ListImages', {});
    const inCore = await served.core.imageStatus(built.imageId);
    expect(images.find((i) => i.id === built.imageId)).toMatchObject({
      repoTags: inCore!.repoTags,
      repoDigests: inCore!.repoDigests,
      size: String(inCore!.sizeBytes),
      spec: { image: built.imageId },
    });
    // A filter names one image by any reference the core resolves; an unknown one, none.
    expect(await listed('busybox:wire')).toEqual([built.imageId]);
    expect(await listed(built.imageId)).toEqual([built.imageId]);
    expect(await listed('host')).toEqual([hostImageId]);
    expect(await listed('busybox:absent')).toEqual([]);
    // Manifest, config and the layer: three blobs, the layer alone over 500 kB.
    const pulled = await fsUsage();
    expect(pulled.inodesUsed).toBe(3n);
    expect(pulled.usedBytes).toBeGreaterThan(500_000n);
    const [coreUsage] = await served.core.imageFsInfo();
    expect(pulled.usedBytes).toBe(BigInt(coreUsage!.usedBytes));

    // RemoveImage, as containerd: at once even while a container uses the image, which then
    // keeps its files; new containers cannot name it; its files go with the container.
    const driver = driverFor(served.endpoint);
    await driver.connect();
    const pod = podSpec('image-user');
    const podId = await driver.runPod(pod);
    const id = await driver.createContainer(podId, pod, containerSpec({ image: 'busybox:wire' }));
    const remove = (image: string): Promise<string> =>
      codeOf(client.image('RemoveImage', { image: { image } }));
    expect(await remove('busybox:wire')).toBe('OK');
    expect(await listed()).toEqual([hostImageId]);
    expect(await listed('busybox:wire')).toEqual([]);
    for (const image of ['busybox:wire', built.imageId]) {
      expect((await client.image('ImageStatus', { image: { image } })).image).toBe(null);
      expect(
        await codeOf(driver.createContainer(podId, pod, containerSpec({ name: 'late', image }))),
      ).toBe('NOT_FOUND');
    }
    expect(await fsUsage()).toEqual(pulled);
    await driver.startContainer(id);
    await driver.removeContainer(id);
    await driver.removePod(podId);
    expect(await fsUsage()).toEqual(empty);
    expect(await remove('busybox:wire')).toBe('OK');
    expect(await remove('host')).toBe('FAILED_PRECONDITION');
    expect(await codeOf(client.image('RemoveImage', {}))).toBe('INVALID_ARGUMENT');
  });

  it('reconnects after the server restarts: calls fail UNAVAILABLE while it is down, then succeed', async () => {
    const served = await serveCore(cleanup);
    const driver = driverFor(served.endpoint, 5000);
    await driver.connect();
    expect(await driver.listPods({})).toEqual([]);
    await served.stopServer();
    expect(await codeOf(driver.listPods({}))).toBe('UNAVAILABLE');
    await served.restartServer();
    // No backoff: the first call after the restart connects afresh.
    expect(await codeOf(driver.listPods({}))).toBe('OK');
    const pod = podSpec('after-restart');
    const podId = await driver.runPod(pod);
    await driver.removePod(podId);
  });

  it('gives each call a deadline (DEADLINE_EXCEEDED) and cancels on abort (CANCELLED)', async () => {
    const served = await serveCore(cleanup, {
      faults: {
        start: { latencyMs: { meanMs: 3000, stddevMs: 0 }, errorRate: 0, code: 'UNAVAILABLE' },
      },
      seed: 1,
    });
    const driver = driverFor(served.endpoint, 300);
    await driver.connect();
    const pod = podSpec('slow');
    const podId = await driver.runPod(pod);
    const id = await driver.createContainer(podId, pod, containerSpec());
    expect(await codeOf(driver.startContainer(id))).toBe('DEADLINE_EXCEEDED');
    const controller = new AbortController();
    const started = driver.startContainer(id, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect(await codeOf(started)).toBe('CANCELLED');
    controller.abort();
    expect(await codeOf(driver.listPods({}, { signal: controller.signal }))).toBe('CANCELLED');
    await served.core.removePodSandbox(podId);
  });

  it('a StopContainer the client gives up on stops holding the container: the pod stops at once', async () => {
    const served = await serveCore(cleanup);
    const driver = driverFor(served.endpoint);
    await driver.connect();
    const { podId, id } = await startedContainer(driver, 'cancelled-stop', [
      'sh',
      '-c',
      'trap "" TERM; exec sleep 3600',
    ]);
    // Only once the shell has exec'd sleep is SIGTERM sure to be ignored: before, it kills sh.
    const { pid } = await served.core.containerStatus(id);
    const comm = (): string => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    expect(await eventually(() => comm() === 'sleep')).toBe(true);
    // A 300 s grace period the client abandons after 50 ms.
    const controller = new AbortController();
    const stopping = driver.stopContainer(id, 300, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect(await codeOf(stopping)).toBe('CANCELLED');
    // Were the server still inside that grace period, StopPodSandbox would wait behind it for
    // 300 s; the test's own timeout (far shorter) is the bound.
    await driver.stopPod(podId);
    expect((await driver.containerStatus(id)).state).toBe('EXITED');
    await driver.removePod(podId);
  });

  it('creates the socket with mode 0600 and removes it on close', async () => {
    const served = await serveCore(cleanup);
    const stats = await lstat(served.socketPath);
    expect(stats.isSocket()).toBe(true);
    expect(stats.mode & 0o777).toBe(0o600);
    await served.stopServer();
    await expect(lstat(served.socketPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('replaces a stale socket, refuses a live one and a non-socket file', async () => {
    const served = await serveCore(cleanup);
    // A live server answers on the socket: refused.
    await expect(
      CriServer.listen(served.core, { socketPath: served.socketPath }),
    ).rejects.toMatchObject({
      code: 'ENDPOINT_INVALID',
    });
    // A stale socket (its server gone without unlinking): replaced.
    const stalePath = join(served.dir, 'stale.sock');
    const stale = createServer();
    const boundPath = join(served.dir, 'bound.sock');
    await new Promise<void>((r) => stale.listen(boundPath, r));
    // Closing a node server unlinks the path it bound; moved away first, the file stays.
    await rename(boundPath, stalePath);
    await new Promise<void>((r) => stale.close(() => r()));
    expect((await lstat(stalePath)).isSocket()).toBe(true);
    const server = await CriServer.listen(served.core, { socketPath: stalePath });
    onTestFinished(() => server.close(1000));
    expect((await lstat(stalePath)).mode & 0o777).toBe(0o600);
    // A regular file: never replaced.
    const filePath = join(served.dir, 'file.sock');
    await writeFile(filePath, 'not a socket');
    await expect(CriServer.listen(served.core, { socketPath: filePath })).rejects.toMatchObject({
      code: 'ENDPOINT_INVALID',
    });
  });

  it('shuts down gracefully: no task process is left once server and core are closed', async () => {
    const served = await serveCore(cleanup);
    const driver = driverFor(served.endpoint);
    await driver.connect();
    const marker = `churn-graceful-${process.pid}-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const pod = podSpec(`g${i}`);
      const podId = await driver.runPod(pod);
      const id = await driver.createContainer(
        podId,
        pod,
        containerSpec({ command: ['sh', '-c', `sleep 3600; echo ${marker}`] }),
      );
      await driver.startContainer(id);
      ids.push(id);
    }
    // Each shell forks its sleep: until that child execs, it shows the shell's command line too.
    expect(await eventually(() => processesWithMarker(marker).length === 3)).toBe(true);
    await served.stopServer();
    await served.core.close();
    expect(processesWithMarker(marker)).toEqual([]);
  });
});
