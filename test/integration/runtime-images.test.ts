// Images: OCI archive import with digest verification, layers with whiteouts, path-traversal
// guards, pull from a directory of archives, status and removal (of images containers still
// use too, as containerd: hidden at once, deleted with their last container, across restarts).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  buildBusyboxArchive,
  buildOciArchive,
  buildPauseArchive,
} from '../../scripts/oci-image.js';
import { isChurnError, type ErrorCode } from '../../src/common/errors.js';
import { hostImageId } from '../../src/runtime/images/host-image.js';
import { RuntimeService } from '../../src/runtime/service.js';
import type { LifecycleEvent } from '../../src/runtime/types.js';
import {
  containerConfig,
  openCore,
  pidAlive,
  podConfig,
  tempDir,
} from '../support/core-fixtures.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const imageRemovalChild = fileURLToPath(
  new URL('../support/image-removal-child.ts', import.meta.url),
);

/** Every file under `dir`, relative. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => !d.isDirectory())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1))
    .sort();
}

async function rejection(call: Promise<unknown>): Promise<{ code: ErrorCode; message: string }> {
  const err: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isChurnError(err)) throw new Error(`expected a ChurnError, got ${String(err)}`);
  return { code: err.code, message: err.message };
}

describe('images', () => {
  function storeFiles(c: RuntimeService): string[] {
    return filesUnder(join(c.options.stateDir, 'images'));
  }

  it('imports an OCI archive and finds the image by tag, id, digest and repo digest', async () => {
    const dir = await tempDir();
    const built = await buildBusyboxArchive(join(dir, 'bb.tar'), [
      'busybox:1.36',
      'example.com/tools/bb',
    ]);
    const c = await openCore();
    const [image] = await c.importImageArchive(built.out);
    expect(image).toBeDefined();
    expect(image!.id).toBe(built.imageId);
    expect([...image!.repoTags].sort()).toEqual([
      'docker.io/library/busybox:1.36',
      'example.com/tools/bb:latest',
    ]);
    expect(image!.repoDigests).toContain(`docker.io/library/busybox@${built.manifestDigest}`);
    expect(image!.sizeBytes).toBeGreaterThan(500_000);
    for (const ref of [
      'busybox:1.36',
      'docker.io/library/busybox:1.36',
      'example.com/tools/bb',
      built.imageId,
      built.imageId.slice(7),
      `busybox@${built.manifestDigest}`,
    ]) {
      expect((await c.imageStatus(ref))?.id, ref).toBe(built.imageId);
    }
    expect(await c.imageStatus('busybox:latest')).toBeUndefined();
    expect((await c.imageStatus('host'))?.id).toBe(hostImageId);
    expect((await c.listImages()).map((i) => i.id).sort()).toEqual(
      [built.imageId, hostImageId].sort(),
    );
    const rootfs = join(c.options.stateDir, 'images', 'rootfs', built.imageId.slice(7));
    expect(existsSync(join(rootfs, 'bin/busybox'))).toBe(true);
    const fs = await c.imageFsInfo();
    expect(fs[0]!.usedBytes).toBeGreaterThan(500_000);
  });

  it.each([
    ['a layer', 'layer'],
    ['the config', 'config'],
    ['the manifest', 'manifest'],
  ] as const)(
    'rejects an archive whose %s has a wrong digest and leaves nothing behind',
    async (_what, kind) => {
      const dir = await tempDir();
      const bad = await buildOciArchive({
        layers: [{ entries: [{ path: 'hello', type: 'file', content: 'hi' }] }],
        refs: ['bad:1'],
        out: join(dir, 'bad.tar'),
        tamperBlob: (k, data) =>
          k === kind
            ? Buffer.concat([data.subarray(0, -1), Buffer.from([data.at(-1)! ^ 1])])
            : data,
      });
      const c = await openCore();
      const before = storeFiles(c);
      const err = await rejection(c.importImageArchive(bad.out));
      expect(err.code).toBe('DATA_LOSS');
      expect(err.message).toContain('digest');
      expect(storeFiles(c)).toEqual(before);
      expect(readdirSync(join(c.options.stateDir, 'images', 'tmp'))).toEqual([]);
      expect((await c.listImages()).map((i) => i.id)).toEqual([hostImageId]);
      expect(await c.imageStatus('bad:1')).toBeUndefined();
    },
  );

  it('applies layers in order with whiteouts and opaque directories', async () => {
    const dir = await tempDir();
    const built = await buildOciArchive({
      layers: [
        {
          entries: [
            { path: 'a', type: 'dir' },
            { path: 'a/x', type: 'file', content: 'x1' },
            { path: 'a/y', type: 'file', content: 'y1' },
            { path: 'b', type: 'dir' },
            { path: 'b/z', type: 'file', content: 'z1' },
            { path: 'd', type: 'dir' },
            { path: 'd/keep', type: 'file', content: 'lower' },
            { path: 'd/sub', type: 'dir' },
            { path: 'd/sub/lower', type: 'file', content: 'lower' },
            { path: 'link', type: 'symlink', target: 'a/y' },
          ],
        },
        {
          gzip: false,
          entries: [
            { path: 'a/x', type: 'whiteout' },
            { path: 'd', type: 'opaque' },
            { path: 'd/new', type: 'file', content: 'upper' },
            { path: 'd/sub', type: 'dir' },
            { path: 'd/sub/upper', type: 'file', content: 'upper' },
            { path: 'b/z', type: 'file', content: 'z2' },
            { path: 'hard', type: 'hardlink', target: 'b/z' },
          ],
        },
        { entries: [{ path: 'link', type: 'whiteout' }] },
      ],
      refs: ['layered:1'],
      out: join(dir, 'layered.tar'),
    });
    const c = await openCore();
    await c.importImageArchive(built.out);
    const rootfs = join(c.options.stateDir, 'images', 'rootfs', built.imageId.slice(7));
    expect(filesUnder(rootfs)).toEqual(['a/y', 'b/z', 'd/new', 'd/sub/upper', 'hard']);
    expect(await readFile(join(rootfs, 'b/z'), 'utf8')).toBe('z2');
    expect(await readFile(join(rootfs, 'hard'), 'utf8')).toBe('z2');
  });

  it('refuses a layer entry that climbs out of the rootfs, leaving nothing behind', async () => {
    const dir = await tempDir();
    const built = await buildOciArchive({
      layers: [{ entries: [{ path: '../../escaped', type: 'file', content: 'bad' }] }],
      refs: ['evil:1'],
      out: join(dir, 'evil.tar'),
    });
    const c = await openCore();
    const before = storeFiles(c);
    const err = await rejection(c.importImageArchive(built.out));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain('escapes the rootfs');
    expect(storeFiles(c)).toEqual(before);
    expect(existsSync(join(c.options.stateDir, 'escaped'))).toBe(false);
    expect(existsSync(join(c.options.stateDir, 'images', 'escaped'))).toBe(false);
  });

  it('resolves symlinks inside the rootfs, so an absolute symlink cannot redirect writes to the host', async () => {
    const dir = await tempDir();
    const outside = await tempDir();
    const built = await buildOciArchive({
      layers: [
        {
          entries: [
            { path: 'evil', type: 'symlink', target: outside },
            { path: 'up', type: 'symlink', target: '../../../../../..' },
          ],
        },
        {
          entries: [
            { path: 'evil/pwned', type: 'file', content: 'bad' },
            { path: 'up/pwned2', type: 'file', content: 'bad' },
          ],
        },
      ],
      refs: ['evil:2'],
      out: join(dir, 'evil2.tar'),
    });
    const c = await openCore();
    await c.importImageArchive(built.out);
    expect(readdirSync(outside)).toEqual([]);
    const rootfs = join(c.options.stateDir, 'images', 'rootfs', built.imageId.slice(7));
    expect(await readFile(join(rootfs, outside, 'pwned'), 'utf8')).toBe('bad');
    expect(await readFile(join(rootfs, 'pwned2'), 'utf8')).toBe('bad');
  });

  it('pulls from the store or the archive directory, never elsewhere', async () => {
    const archives = await tempDir();
    await mkdir(archives, { recursive: true });
    const built = await buildBusyboxArchive(join(archives, 'busybox.tar'), ['busybox:pulled']);
    const c = await openCore({ imagesDir: archives });
    const events: LifecycleEvent[] = [];
    c.onEvent((e) => events.push(e));
    const missing = await rejection(c.pullImage('busybox:absent'));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toContain(archives);
    expect(await c.pullImage('busybox:pulled')).toBe(built.imageId);
    expect(await c.pullImage('docker.io/library/busybox:pulled')).toBe(built.imageId);
    expect(await c.pullImage('host')).toBe(hostImageId);
    expect(events.filter((e) => e.kind === 'image_pulled').map((e) => e.id)).toEqual([
      built.imageId,
    ]);
    expect((await rejection(c.pullImage('Not A Ref'))).code).toBe('INVALID_ARGUMENT');

    const noDir = await openCore();
    expect((await rejection(noDir.pullImage('busybox:pulled'))).code).toBe('NOT_FOUND');
  });

  it('removes an image nothing uses at once, with the blobs only it used', async () => {
    const dir = await tempDir();
    const built = await buildBusyboxArchive(join(dir, 'busybox.tar'), ['busybox:rm']);
    const c = await openCore();
    const before = storeFiles(c);
    await c.importImageArchive(built.out);
    const pod = podConfig();
    const podId = await c.runPodSandbox(pod, '');
    const cid = await c.createContainer(podId, containerConfig({ image: 'busybox:rm' }), pod);
    await c.removeContainer(cid);
    await c.removeImage('busybox:rm');
    await c.removeImage('busybox:rm'); // an absent image: OK, as CRI says
    await c.removeImage('never-pulled:1');
    expect(await c.imageStatus(built.imageId)).toBeUndefined();
    expect(storeFiles(c)).toEqual(before);
    expect((await rejection(c.removeImage('host'))).code).toBe('FAILED_PRECONDITION');
  });
});

/** Reads image `id`'s meta file in the store of `stateDir`. */
async function metaOf(stateDir: string, id: string): Promise<Record<string, unknown>> {
  const text = await readFile(join(stateDir, 'images', 'meta', `${id.slice(7)}.json`), 'utf8');
  return JSON.parse(text) as Record<string, unknown>;
}

function rootfsOf(stateDir: string, id: string): string {
  return join(stateDir, 'images', 'rootfs', id.slice(7));
}

// As containerd 1.6: RemoveImage of an image containers use succeeds at once; the containers
// keep it, new ones cannot name it, and its files go with the last of them.
describe('removing an image that containers use', () => {
  function storeFiles(c: RuntimeService): string[] {
    return filesUnder(join(c.options.stateDir, 'images'));
  }

  it('hides it at once; new containers cannot name it; those made before run on; its files go with the last of them', async () => {
    const dir = await tempDir();
    const built = await buildBusyboxArchive(join(dir, 'busybox.tar'), ['busybox:inuse']);
    const c = await openCore();
    const before = storeFiles(c);
    await c.importImageArchive(built.out);
    const pod = podConfig();
    const podId = await c.runPodSandbox(pod, '');
    const running = await c.createContainer(
      podId,
      containerConfig({ name: 'running', image: 'busybox:inuse' }),
      pod,
    );
    await c.startContainer(running);
    const created = await c.createContainer(
      podId,
      containerConfig({ name: 'created', image: built.imageId }),
      pod,
    );
    const events: LifecycleEvent[] = [];
    c.onEvent((e) => events.push(e));

    await c.removeImage('busybox:inuse');
    expect(events.filter((e) => e.kind === 'image_removed').map((e) => e.id)).toEqual([
      built.imageId,
    ]);
    for (const ref of [
      'busybox:inuse',
      built.imageId,
      built.imageId.slice(7),
      built.manifestDigest,
      `busybox@${built.manifestDigest}`,
    ]) {
      expect(await c.imageStatus(ref), ref).toBeUndefined();
    }
    expect((await c.listImages()).map((i) => i.id)).toEqual([hostImageId]);
    for (const ref of ['busybox:inuse', built.imageId]) {
      const refused = await rejection(
        c.createContainer(podId, containerConfig({ name: `new-${ref}`, image: ref }), pod),
      );
      expect(refused.code, ref).toBe('NOT_FOUND');
      expect(refused.message).toContain(ref);
    }
    await c.removeImage('busybox:inuse'); // gone already: OK
    await c.removeImage(built.imageId);

    // The containers made before keep their image: one runs on and execs, the other starts.
    expect((await c.containerStatus(running)).state).toBe('RUNNING');
    expect((await c.execSync(running, ['true'], 10)).exitCode).toBe(0);
    await c.startContainer(created);
    expect((await c.containerStatus(created)).state).toBe('RUNNING');
    expect((await metaOf(c.options.stateDir, built.imageId))['removed']).toBe(true);

    await c.stopContainer(running, 0);
    await c.removeContainer(running);
    expect(existsSync(join(rootfsOf(c.options.stateDir, built.imageId), 'bin/busybox'))).toBe(true);
    await c.removePodSandbox(podId); // removes `created`, the last user
    expect(storeFiles(c)).toEqual(before);
  });

  it('deletes only the blobs no other image uses when the last container goes', async () => {
    const dir = await tempDir();
    const busybox = await buildBusyboxArchive(join(dir, 'busybox.tar'), ['busybox:shared']);
    const pause = await buildPauseArchive(join(dir, 'pause.tar'), ['pause:shared']);
    expect(pause.layerDigests).toEqual(busybox.layerDigests); // one layer, two images
    const c = await openCore();
    const before = storeFiles(c);
    await c.importImageArchive(busybox.out);
    await c.importImageArchive(pause.out);
    const withPauseOnly = storeFiles(c).filter(
      (f) =>
        !f.endsWith(busybox.imageId.slice(7)) &&
        !f.endsWith(busybox.manifestDigest.slice(7)) &&
        !f.startsWith(`rootfs/${busybox.imageId.slice(7)}/`) &&
        !f.startsWith(`meta/${busybox.imageId.slice(7)}`),
    );
    const pod = podConfig();
    const podId = await c.runPodSandbox(pod, '');
    const cid = await c.createContainer(podId, containerConfig({ image: 'busybox:shared' }), pod);
    await c.removeImage('busybox:shared');
    await c.removeContainer(cid);
    expect(storeFiles(c)).toEqual(withPauseOnly);
    expect((await c.imageStatus('pause:shared'))?.id).toBe(pause.imageId);
    await c.removeImage('pause:shared');
    expect(storeFiles(c)).toEqual(before);
  });

  it('pulling or loading it again un-hides it and reuses its rootfs', async () => {
    const archives = await tempDir();
    const built = await buildBusyboxArchive(join(archives, 'busybox.tar'), ['busybox:again']);
    const c = await openCore({ imagesDir: archives });
    const before = storeFiles(c);
    await c.pullImage('busybox:again');
    const busyboxFile = join(rootfsOf(c.options.stateDir, built.imageId), 'bin/busybox');
    const inode = statSync(busyboxFile).ino;
    const pod = podConfig();
    const podId = await c.runPodSandbox(pod, '');
    const first = await c.createContainer(
      podId,
      containerConfig({ name: 'first', image: 'busybox:again' }),
      pod,
    );

    for (const bringBack of [
      () => c.pullImage('busybox:again'),
      () => c.importImageArchive(built.out),
    ]) {
      await c.removeImage('busybox:again');
      expect(await c.imageStatus('busybox:again')).toBeUndefined();
      await bringBack();
      const back = await c.imageStatus('busybox:again');
      expect(back?.id).toBe(built.imageId);
      expect(back?.repoTags).toEqual(['docker.io/library/busybox:again']);
      expect(statSync(busyboxFile).ino).toBe(inode); // not unpacked again
      expect((await metaOf(c.options.stateDir, built.imageId))['removed']).toBeUndefined();
    }
    // Visible again: removing its last container leaves it, and new containers can name it.
    await c.removeContainer(first);
    expect((await c.imageStatus(built.imageId))?.id).toBe(built.imageId);
    const second = await c.createContainer(
      podId,
      containerConfig({ name: 'second', image: 'busybox:again' }),
      pod,
    );
    await c.removeContainer(second);
    await c.removeImage('busybox:again');
    expect(storeFiles(c)).toEqual(before);
  });

  it('stays hidden across a restart, for the containers that still use it', async () => {
    const stateDir = await tempDir();
    const dir = await tempDir();
    const built = await buildBusyboxArchive(join(dir, 'busybox.tar'), ['busybox:restart']);
    const first = await openCore({ stateDir });
    const before = storeFiles(first);
    await first.importImageArchive(built.out);
    const pod = podConfig();
    const podId = await first.runPodSandbox(pod, '');
    const created = await first.createContainer(
      podId,
      containerConfig({ image: 'busybox:restart' }),
      pod,
    );
    await first.removeImage('busybox:restart');
    expect(await metaOf(stateDir, built.imageId)).toMatchObject({
      removed: true,
      image: { id: built.imageId, repoTags: [], repoDigests: [] },
    });
    await first.close();

    const c = await openCore({ stateDir });
    expect(await c.imageStatus('busybox:restart')).toBeUndefined();
    expect(await c.imageStatus(built.imageId)).toBeUndefined();
    expect((await c.listImages()).map((i) => i.id)).toEqual([hostImageId]);
    const refused = await rejection(
      c.createContainer(podId, containerConfig({ name: 'new', image: 'busybox:restart' }), pod),
    );
    expect(refused.code).toBe('NOT_FOUND');
    await c.startContainer(created);
    expect((await c.containerStatus(created)).state).toBe('RUNNING');
    await c.removePodSandbox(podId);
    expect(storeFiles(c)).toEqual(before);
  });

  it('after kill -9 between RemoveImage and the last container, it stays hidden and goes with that container', async () => {
    const stateDir = await tempDir();
    const archives = await tempDir();
    const built = await buildBusyboxArchive(join(archives, 'busybox.tar'), ['busybox:crash']);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', imageRemovalChild, stateDir, archives, 'busybox:crash'],
      { stdio: ['ignore', 'pipe', 'inherit'], cwd: repoRoot },
    );
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const info = JSON.parse(line) as {
      podId: string;
      containerId: string;
      pid: number;
      imageId: string;
    };
    onTestFinished(() => {
      if (pidAlive(info.pid)) process.kill(-info.pid, 'SIGKILL');
    });
    expect(info.imageId).toBe(built.imageId);
    child.kill('SIGKILL'); // the crash
    await once(child, 'exit');

    const c = await openCore({ stateDir, imagesDir: archives });
    expect(await c.imageStatus('busybox:crash')).toBeUndefined();
    expect((await c.listImages()).map((i) => i.id)).toEqual([hostImageId]);
    expect(await c.containerStatus(info.containerId)).toMatchObject({
      state: 'RUNNING',
      pid: info.pid,
      imageRef: built.imageId,
    });
    expect(existsSync(join(rootfsOf(stateDir, built.imageId), 'bin/busybox'))).toBe(true);
    const pod = podConfig({ name: 'crashed' });
    const refused = await rejection(
      c.createContainer(info.podId, containerConfig({ name: 'new', image: 'busybox:crash' }), pod),
    );
    expect(refused.code).toBe('NOT_FOUND');
    await c.stopContainer(info.containerId, 0);
    await c.removeContainer(info.containerId);
    expect(filesUnder(join(stateDir, 'images', 'rootfs'))).toEqual([]);
    expect(filesUnder(join(stateDir, 'images', 'meta'))).toEqual([]);
    expect(filesUnder(join(stateDir, 'images', 'content'))).toEqual([]);
  });

  it('finishes at the next opening a removal a crash cut short, and deletes blobs no image names', async () => {
    const stateDir = await tempDir();
    const dir = await tempDir();
    const built = await buildBusyboxArchive(join(dir, 'busybox.tar'), ['busybox:cut']);
    const first = await openCore({ stateDir });
    const before = storeFiles(first);
    await first.importImageArchive(built.out);
    await first.close();
    // What a crash leaves: the mark written (no container used it), the files not yet deleted;
    // and a blob of an import cut short before its record was written.
    const metaPath = join(stateDir, 'images', 'meta', `${built.imageId.slice(7)}.json`);
    await writeFile(
      metaPath,
      JSON.stringify({ ...(await metaOf(stateDir, built.imageId)), removed: true }),
    );
    await writeFile(join(stateDir, 'images', 'content', 'sha256', 'f'.repeat(64)), 'stray');

    const c = await openCore({ stateDir });
    expect(await c.imageStatus(built.imageId)).toBeUndefined();
    expect(storeFiles(c)).toEqual(before);
  });

  it('keeps the files for a container created while the image is removed, and deletes them with it', async () => {
    const dir = await tempDir();
    const built = await buildBusyboxArchive(join(dir, 'busybox.tar'), ['busybox:race']);
    const c = await openCore();
    const before = storeFiles(c);
    await c.importImageArchive(built.out);
    // Creates in flight at each stage when RemoveImage comes: some hold the image already,
    // the later ones find it gone. Whichever way each goes, what was created must run.
    const pods = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const pod = podConfig();
        return { pod, id: await c.runPodSandbox(pod, '') };
      }),
    );
    const creates = pods.map(async ({ pod, id }, i) => {
      for (let tick = 0; tick < i; tick++) await new Promise((r) => setImmediate(r));
      return c.createContainer(id, containerConfig({ image: 'busybox:race' }), pod).then(
        (cid) => ({ cid }),
        (err: unknown) => ({ err }),
      );
    });
    await new Promise((r) => setImmediate(r));
    await c.removeImage('busybox:race');
    const outcomes = await Promise.all(creates);
    for (const o of outcomes) {
      if ('err' in o) {
        expect(isChurnError(o.err, 'NOT_FOUND'), String(o.err)).toBe(true);
        continue;
      }
      await c.startContainer(o.cid);
      expect((await c.containerStatus(o.cid)).state).toBe('RUNNING');
    }
    expect(await c.imageStatus('busybox:race')).toBeUndefined();
    for (const { id } of pods) await c.removePodSandbox(id);
    expect(storeFiles(c)).toEqual(before);
  });
});
