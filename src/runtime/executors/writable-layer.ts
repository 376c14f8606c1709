/**
 * A container's writable layer for the runc executor, as containerd's overlayfs snapshotter
 * gives one: an overlay mounted at `<dir>/<id>/rootfs` whose lower layer is the image's
 * unpacked rootfs (never written) and whose `upper` and `work` sit beside it. The runc
 * executor makes it when the task starts and removes it (unmounted, then deleted) when the
 * task ends: CRI cannot restart an exited container, so nothing reads it after (containerd
 * keeps the snapshot until RemoveContainer).
 *
 * Where overlayfs cannot be mounted (probed once at open, e.g. no overlay module, or an upper
 * directory on a filesystem overlay refuses), the layer is a copy of the image's rootfs
 * instead (`cp -a`, reflinked where the filesystem can): correct, slower, and said so by
 * {@link WritableLayers.kind}.
 *
 * No mount is leaked: {@link WritableLayers.sweep} unmounts every overlay under `<dir>` whose
 * container is not live (found in /proc/self/mountinfo, so a crash that lost the directory
 * still has its mount found) and deletes their directories; the runc executor calls it when
 * the core opens (crash recovery, `churn cleanup`) and when it closes.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ChurnError } from '../../common/errors.js';
import { parseMountInfo } from '../../common/procfs-parse.js';

/** How writable layers are made: an overlay mount, or a copy of the image's rootfs. */
export type WritableLayerKind = 'overlay' | 'copy';

/** The writable layers of one executor's containers, under one directory. */
export class WritableLayers {
  readonly #dir: string;
  /** How layers are made here. */
  readonly kind: WritableLayerKind;

  private constructor(dir: string, kind: WritableLayerKind) {
    this.#dir = dir;
    this.kind = kind;
  }

  /** Prepares `dir` and probes overlayfs in it; `kind` forces one way (tests). */
  static async open(dir: string, kind?: WritableLayerKind): Promise<WritableLayers> {
    await mkdir(dir, { recursive: true });
    return new WritableLayers(dir, kind ?? ((await overlayWorks(dir)) ? 'overlay' : 'copy'));
  }

  /** The directory of container `id`'s layer. */
  pathOf(id: string): string {
    return join(this.#dir, id);
  }

  /**
   * Makes container `id`'s writable root over the image rootfs `lower`; resolves the path to
   * use as the container's root. Throws FAILED_PRECONDITION when it cannot be made.
   */
  async create(id: string, lower: string): Promise<string> {
    const layer = this.pathOf(id);
    await this.remove(id);
    const rootfs = join(layer, 'rootfs');
    try {
      if (this.kind === 'copy') {
        await mkdir(layer, { recursive: true });
        await run('cp', ['-a', '--reflink=auto', lower, rootfs]);
        return rootfs;
      }
      if (/[,:]/.test(lower) || /[,:]/.test(layer)) {
        throw new Error('a path holds "," or ":", which overlay mount options cannot carry');
      }
      const [upper, work] = [join(layer, 'upper'), join(layer, 'work')];
      await Promise.all([upper, work, rootfs].map((d) => mkdir(d, { recursive: true })));
      await run('mount', [
        '-t',
        'overlay',
        'overlay',
        '-o',
        `lowerdir=${lower},upperdir=${upper},workdir=${work}`,
        rootfs,
      ]);
      return rootfs;
    } catch (err) {
      await this.remove(id).catch(() => undefined);
      throw new ChurnError(
        'FAILED_PRECONDITION',
        `container "${id}": cannot make its writable layer (${this.kind}) in ${layer}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /** Unmounts and deletes container `id`'s layer; a no-op when it has none. */
  async remove(id: string): Promise<void> {
    const layer = this.pathOf(id);
    for (const mountPoint of await mountsUnder(layer)) await unmount(mountPoint);
    await rm(layer, { recursive: true, force: true });
  }

  /** Removes every layer (and unmounts every mount under the directory) not of `live` ids. */
  async sweep(live: ReadonlySet<string>): Promise<number> {
    const ids = new Set(await readdir(this.#dir).catch(() => []));
    for (const mountPoint of await mountsUnder(this.#dir)) {
      const id = mountPoint.slice(this.#dir.length + 1).split('/')[0] ?? '';
      if (!live.has(id)) ids.add(id);
    }
    const gone = [...ids].filter((id) => id !== '' && !live.has(id));
    for (const id of gone) await this.remove(id);
    return gone.length;
  }
}

/** Mount points at or under `dir`, deepest first (the order to unmount them in). */
async function mountsUnder(dir: string): Promise<string[]> {
  const infos = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
  return infos
    .map((i) => i.mountPoint)
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`))
    .reverse();
}

/** Unmounts `mountPoint`; lazily when it is busy, so it is gone from the tree either way. */
async function unmount(mountPoint: string): Promise<void> {
  try {
    await run('umount', [mountPoint]);
  } catch {
    await run('umount', ['-l', mountPoint]);
  }
}

/** Whether an overlay mounts in `dir` (made and removed there). */
async function overlayWorks(dir: string): Promise<boolean> {
  const probe = join(dir, `.probe-${process.pid}`);
  const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) =>
    join(probe, d),
  ) as [string, string, string, string];
  try {
    await Promise.all([lower, upper, work, merged].map((d) => mkdir(d, { recursive: true })));
    await run('mount', [
      '-t',
      'overlay',
      'overlay',
      '-o',
      `lowerdir=${lower},upperdir=${upper},workdir=${work}`,
      merged,
    ]);
    await run('umount', [merged]);
    return true;
  } catch {
    return false;
  } finally {
    await rm(probe, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Runs a command; rejects with its stderr when it fails. */
function run(file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve()
        : reject(
            new Error(`${file} ${args.join(' ')}: ${stderr.trim() || `exit ${String(code)}`}`),
          ),
    );
  });
}
