// The runc executor's filesystems and namespaces as containerd gives them for the same CRI
// request: a writable layer per container (an overlay, unmounted and deleted when the task
// ends, when the core closes and when a later core sweeps what a crash left), CRI mounts
// (symlinks followed, a missing host path made, read-only, propagation), the pod's sysctls and
// a TARGET pid namespace.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildBusyboxArchive } from '../../scripts/oci-image.js';
import { isChurnError } from '../../src/common/errors.js';
import { parseMountInfo } from '../../src/common/procfs-parse.js';
import type { RuntimeService } from '../../src/runtime/service.js';
import type { ContainerConfig } from '../../src/runtime/types.js';
import { WritableLayers } from '../../src/runtime/executors/writable-layer.js';
import { containerConfig, openCore, podConfig, tempDir } from '../support/core-fixtures.js';
import { runcAvailable } from '../support/executors.js';

const skip = !runcAvailable() && process.env.CI !== 'true';

/** Mount points at or under `dir` in the host's mount table. */
function mountsUnder(dir: string): string[] {
  return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))
    .map((i) => i.mountPoint)
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`));
}

const image = 'busybox:runc-fs';

async function busyboxCore(stateDir?: string): Promise<RuntimeService> {
  const archives = await tempDir();
  await buildBusyboxArchive(join(archives, 'bb.tar'), [image]);
  const c = await openCore({
    executor: 'runc',
    imagesDir: archives,
    ...(stateDir === undefined ? {} : { stateDir }),
  });
  await c.pullImage(image);
  return c;
}

function busybox(over: Partial<ContainerConfig> & { name?: string } = {}): ContainerConfig {
  return containerConfig({ image, command: ['sleep', '3600'], ...over });
}

async function run(c: RuntimeService, id: string, script: string): Promise<string> {
  const r = await c.execSync(id, ['sh', '-c', script], 10);
  return r.stdout.toString().trim() + r.stderr.toString().trim();
}

describe.skipIf(skip)('executor runc: filesystems and namespaces', () => {
  it('gives each container a writable overlay over the image, removed with its task', async () => {
    const c = await busyboxCore();
    const layers = join(c.options.stateDir, 'runc-layers');
    const pod = podConfig();
    const podId = await c.runPodSandbox(pod, '');
    const a = await c.createContainer(podId, busybox({ name: 'a' }), pod);
    const b = await c.createContainer(podId, busybox({ name: 'b' }), pod);
    await c.startContainer(a);
    await c.startContainer(b);
    expect(mountsUnder(layers).sort()).toEqual(
      [join(layers, a, 'rootfs'), join(layers, b, 'rootfs')].sort(),
    );
    expect(await run(c, a, 'echo one > /etc/written && cat /etc/written')).toBe('one');
    // The other container and the image do not see it.
    expect(await run(c, b, 'cat /etc/written 2>/dev/null || echo absent')).toBe('absent');
    expect(existsSync(join(layers, a, 'upper', 'etc', 'written'))).toBe(true);
    await c.stopContainer(a, 0);
    expect(mountsUnder(layers)).toEqual([join(layers, b, 'rootfs')]);
    expect(existsSync(join(layers, a))).toBe(false);
    await c.removePodSandbox(podId);
    expect(mountsUnder(layers)).toEqual([]);
    expect(readdirSync(layers)).toEqual([]);
  });

  it('unmounts every layer when the core closes, and a later core sweeps what a crash left', async () => {
    const c = await busyboxCore();
    const stateDir = c.options.stateDir;
    const layers = join(stateDir, 'runc-layers');
    const pod = podConfig();
    const podId = await c.runPodSandbox(pod, '');
    const id = await c.createContainer(podId, busybox(), pod);
    await c.startContainer(id);
    expect(mountsUnder(layers)).toHaveLength(1);
    await c.close();
    expect(mountsUnder(layers)).toEqual([]);

    // A crash leaves an overlay mounted and a layer directory: made here by hand.
    const left = join(layers, 'crashed');
    for (const d of ['lower', 'upper', 'work', 'rootfs'])
      await mkdir(join(left, d), { recursive: true });
    const mounted = spawnSync('mount', [
      '-t',
      'overlay',
      'overlay',
      '-o',
      `lowerdir=${join(left, 'lower')},upperdir=${join(left, 'upper')},workdir=${join(left, 'work')}`,
      join(left, 'rootfs'),
    ]);
    expect(mounted.status).toBe(0);
    onTestFinished(() => {
      spawnSync('umount', ['-l', join(left, 'rootfs')]);
    });
    expect(mountsUnder(layers)).toEqual([join(left, 'rootfs')]);
    const restarted = await openCore({ stateDir, executor: 'runc' });
    expect(mountsUnder(layers)).toEqual([]);
    expect(existsSync(left)).toBe(false);
    await restarted.close();
  });

  it('binds CRI mounts: symlinks followed, a missing host path made, read-only kept; Status reports them', async () => {
    const c = await busyboxCore();
    const host = await tempDir();
    await writeFile(join(host, 'flag'), 'here');
    const link = `${host}-link`;
    await symlink(host, link);
    onTestFinished(() => {
      spawnSync('rm', ['-f', link]);
    });
    const missing = join(host, 'made', 'by', 'create');
    const mounts = [
      {
        containerPath: link,
        hostPath: link,
        readonly: false,
        selinuxRelabel: false,
        propagation: 'PRIVATE' as const,
      },
      {
        containerPath: '/ro',
        hostPath: host,
        readonly: true,
        selinuxRelabel: false,
        propagation: 'PRIVATE' as const,
      },
      {
        containerPath: '/made',
        hostPath: missing,
        readonly: false,
        selinuxRelabel: false,
        propagation: 'PRIVATE' as const,
      },
    ];
    const pod = podConfig();
    const podId = await c.runPodSandbox(pod, '');
    const id = await c.createContainer(podId, busybox({ mounts }), pod);
    expect(existsSync(missing)).toBe(true); // made at CreateContainer, as containerd does
    expect((await c.containerStatus(id)).config.mounts).toEqual(mounts);
    await c.startContainer(id);
    expect(await run(c, id, `cat ${link}/flag`)).toBe('here');
    expect(await run(c, id, 'touch /ro/x 2>&1 || true')).toMatch(/Read-only file system/);
    await run(c, id, 'echo out > /made/file');
    expect(await readFile(join(missing, 'file'), 'utf8')).toBe('out\n');
  });

  it('refuses a BIDIRECTIONAL mount of a path on a private mount, as containerd', async () => {
    const c = await busyboxCore();
    const host = await tempDir();
    const pod = podConfig();
    const podId = await c.runPodSandbox(pod, '');
    const id = await c.createContainer(
      podId,
      busybox({
        mounts: [
          {
            containerPath: '/m',
            hostPath: host,
            readonly: false,
            selinuxRelabel: false,
            propagation: 'BIDIRECTIONAL',
          },
        ],
      }),
      pod,
    );
    const err: unknown = await c.startContainer(id).catch((e: unknown) => e);
    expect(isChurnError(err, 'FAILED_PRECONDITION')).toBe(true);
    expect((err as Error).message).toMatch(/is not a shared mount/);
  });

  it("sets the pod's sysctls in its namespaces and joins a TARGET container's pid namespace", async () => {
    const c = await busyboxCore();
    const pod = podConfig({
      networkMode: 'POD',
      sysctls: { 'kernel.shm_rmid_forced': '1', 'net.ipv4.ip_forward': '1' },
    });
    const podId = await c.runPodSandbox(pod, '');
    const a = await c.createContainer(podId, busybox({ name: 'a' }), pod);
    await c.startContainer(a);
    expect(await run(c, a, 'cat /proc/sys/kernel/shm_rmid_forced')).toBe('1');
    expect(await run(c, a, 'cat /proc/sys/net/ipv4/ip_forward')).toBe('1');
    expect(readFileSync('/proc/sys/kernel/shm_rmid_forced', 'utf8').trim()).not.toBe('1');
    const b = await c.createContainer(
      podId,
      busybox({ name: 'b', pidMode: 'TARGET', pidTargetId: a }),
      pod,
    );
    await c.startContainer(b);
    const [pa, pb] = [(await c.containerStatus(a)).pid, (await c.containerStatus(b)).pid];
    expect(readlinkSync(`/proc/${pb}/ns/pid`)).toBe(readlinkSync(`/proc/${pa}/ns/pid`));
    expect(readlinkSync(`/proc/${pb}/ns/pid`)).not.toBe(readlinkSync('/proc/self/ns/pid'));
    const stopped = await c
      .createContainer(podId, busybox({ name: 'c', pidMode: 'TARGET', pidTargetId: 'nope' }), pod)
      .catch((e: unknown) => e);
    expect(isChurnError(stopped, 'FAILED_PRECONDITION')).toBe(true);
  });

  it('makes a layer as an overlay here, and as a copy where overlayfs cannot mount', async () => {
    const lower = await tempDir();
    await writeFile(join(lower, 'image-file'), 'image');
    for (const kind of ['overlay', 'copy'] as const) {
      const dir = await tempDir();
      const layers = await WritableLayers.open(dir, kind);
      const root = await layers.create('c1', lower);
      expect(await readFile(join(root, 'image-file'), 'utf8')).toBe('image');
      await writeFile(join(root, 'image-file'), 'changed');
      expect(await readFile(join(lower, 'image-file'), 'utf8')).toBe('image'); // never written
      expect(mountsUnder(dir)).toEqual(kind === 'overlay' ? [root] : []);
      await layers.remove('c1');
      expect(mountsUnder(dir)).toEqual([]);
      expect(readdirSync(dir)).toEqual([]);
    }
    expect((await WritableLayers.open(await tempDir())).kind).toBe('overlay'); // probed
  });
});
