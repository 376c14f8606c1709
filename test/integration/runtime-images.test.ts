// Images: OCI archive import with digest verification, layers with whiteouts, path-traversal
// guards, pull from a directory of archives, status and removal.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildBusyboxArchive, buildOciArchive } from '../../scripts/oci-image.js';
import { isChurnError, type ErrorCode } from '../../src/common/errors.js';
import { hostImageId } from '../../src/runtime/images/host-image.js';
import { RuntimeService } from '../../src/runtime/service.js';
import type { LifecycleEvent } from '../../src/runtime/types.js';
import { containerConfig, openCore, podConfig, tempDir } from '../support/core-fixtures.js';

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

  it('removes an image and the blobs only it used; refuses while a container uses it', async () => {
    const dir = await tempDir();
    const built = await buildBusyboxArchive(join(dir, 'busybox.tar'), ['busybox:rm']);
    const c = await openCore();
    const before = storeFiles(c);
    await c.importImageArchive(built.out);
    const pod = podConfig();
    const podId = await c.runPodSandbox(pod, '');
    const cid = await c.createContainer(podId, containerConfig({ image: 'busybox:rm' }), pod);
    const inUse = await rejection(c.removeImage('busybox:rm'));
    expect(inUse.code).toBe('FAILED_PRECONDITION');
    expect(inUse.message).toContain(cid);
    await c.removeContainer(cid);
    await c.removeImage('busybox:rm');
    await c.removeImage('busybox:rm'); // idempotent
    expect(await c.imageStatus(built.imageId)).toBeUndefined();
    expect(storeFiles(c)).toEqual(before);
    expect((await rejection(c.removeImage('host'))).code).toBe('FAILED_PRECONDITION');
  });
});
