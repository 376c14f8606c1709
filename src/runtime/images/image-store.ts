/**
 * The image store: content-addressed blobs, one unpacked rootfs per image, and the image
 * records, all under one directory:
 *
 *   content/sha256/<hex>   verified blobs (manifests, configs, layers)
 *   rootfs/<id hex>/       the image's layers applied in order
 *   meta/<id hex>.json     the record (written atomically, last: it is what makes an image exist)
 *   tmp/                   imports in progress; emptied on open
 *
 * Import reads an OCI image-layout archive into tmp/, verifying every blob's sha256 and every
 * descriptor's size, unpacks layers (checking their diff ids), and only then moves the result
 * into place. A bad archive leaves nothing behind.
 *
 * Removal, as containerd's: an image that containers still use is only hidden. Its record
 * gets a `removed` mark and loses its tags, so lookups, listings and new containers no longer
 * see it, while the containers created from it keep their rootfs ({@link ImageStore.byId}).
 * Its files go when the last of them does ({@link ImageStore.purge}); importing it again
 * un-hides it and reuses its rootfs. An image nothing uses is marked too before its files go,
 * so a removal cut short by a crash is finished when the store next opens: the service purges
 * every hidden image no recovered container uses, and opening deletes any rootfs or blob that
 * no record names.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-file.js';
import { ChurnError } from '../../common/errors.js';
import { KeyedMutex } from '../keyed-mutex.js';
import type { FilesystemUsage, Image, ImageSpec } from '../types.js';
import { hostImage } from './host-image.js';
import { applyLayer, removeTree } from './layer-apply.js';
import {
  checkOciLayout,
  containerdImageNameAnnotation,
  isIndexMediaType,
  isManifestMediaType,
  ociRefNameAnnotation,
  parseImageConfig,
  parseIndex,
  parseManifest,
  type Descriptor,
} from './oci-layout.js';
import { isImageIdLike, repositoryOf, tryNormalizeReference } from './reference.js';
import { copyEntryToFile, forEachTarEntry } from './tar-entries.js';

/** An image and where its files are. */
export interface ImageRecord {
  readonly image: Image;
  /** Host path of the unpacked rootfs ('/' for the host image). */
  readonly rootfs: string;
  /** `sha256:…` of the manifest ('' for the host image). */
  readonly manifestDigest: string;
  /** Every blob the image uses: manifest, config, layers. */
  readonly blobs: readonly string[];
  /** Set once the image was removed: hidden, its files kept for the containers still using it. */
  readonly removed?: true;
}

interface MetaFile {
  readonly version: 1;
  readonly image: Image;
  readonly manifestDigest: string;
  readonly blobs: readonly string[];
  readonly removed?: true;
}

const maxJsonBytes = 4 * 1024 * 1024;

/** The store; see the module comment. Create with {@link ImageStore.open}. */
export class ImageStore {
  readonly #dir: string;
  readonly #durable: boolean;
  readonly #records = new Map<string, ImageRecord>();
  readonly #byTag = new Map<string, string>();
  readonly #lock = new KeyedMutex();

  private constructor(dir: string, durable: boolean) {
    this.#dir = dir;
    this.#durable = durable;
    this.#index({ image: hostImage, rootfs: '/', manifestDigest: '', blobs: [] });
  }

  /** Opens (creating) the store in `dir`, loading its records and clearing unfinished imports. */
  static async open(dir: string, options: { durable?: boolean } = {}): Promise<ImageStore> {
    const store = new ImageStore(dir, options.durable ?? false);
    await rm(join(dir, 'tmp'), { recursive: true, force: true });
    for (const sub of ['content/sha256', 'rootfs', 'meta', 'tmp']) {
      await mkdir(join(dir, sub), { recursive: true });
    }
    for (const name of await readdir(join(dir, 'meta'))) {
      if (!name.endsWith('.json')) continue;
      const meta = JSON.parse(await readFile(join(dir, 'meta', name), 'utf8')) as MetaFile;
      store.#index({
        image: meta.image,
        rootfs: store.#rootfsPath(meta.image.id),
        manifestDigest: meta.manifestDigest,
        blobs: meta.blobs,
        ...(meta.removed === true ? { removed: true } : {}),
      });
    }
    // A rootfs or blob without a record is the remains of an import or removal cut short.
    for (const name of await readdir(join(dir, 'rootfs'))) {
      if (!store.#records.has(`sha256:${name}`)) await removeTree(join(dir, 'rootfs', name));
    }
    const named = store.#blobsInUse();
    for (const name of await readdir(join(dir, 'content', 'sha256'))) {
      if (!named.has(`sha256:${name}`))
        await rm(join(dir, 'content', 'sha256', name), { force: true });
    }
    return store;
  }

  /** Every image, the host image included; removed (hidden) images are not. */
  list(): Image[] {
    return [...this.#records.values()].filter((r) => r.removed !== true).map((r) => r.image);
  }

  /**
   * The image with id `id`, even one removed while containers still use it: what a container
   * created from it runs on.
   */
  byId(id: string): ImageRecord | undefined {
    return this.#records.get(id);
  }

  /** Whether image `id` is removed but kept (hidden) for containers that still use it. */
  isHidden(id: string): boolean {
    return this.#records.get(id)?.removed === true;
  }

  /** Ids of the removed images kept for their containers. */
  hiddenIds(): string[] {
    return [...this.#records.values()].filter((r) => r.removed === true).map((r) => r.image.id);
  }

  /** The image named by `ref` (tag, `name@digest`, manifest digest, image id or its hex). */
  get(ref: string): ImageRecord | undefined {
    if (isImageIdLike(ref)) {
      const id = ref.startsWith('sha256:') ? ref : `sha256:${ref}`;
      const byId = this.#records.get(id);
      if (byId !== undefined) return byId.removed === true ? undefined : byId;
      for (const r of this.#records.values()) {
        if (r.manifestDigest === id && r.removed !== true) return r;
      }
      return undefined;
    }
    const normalized = tryNormalizeReference(ref);
    if (normalized === undefined) return undefined;
    const at = normalized.indexOf('@');
    if (at >= 0) {
      const digest = normalized.slice(at + 1);
      const repo = repositoryOf(normalized);
      for (const r of this.#records.values()) {
        if (r.manifestDigest === digest && r.image.repoDigests.includes(`${repo}@${digest}`))
          return r;
      }
      return undefined;
    }
    const id = this.#byTag.get(normalized);
    return id === undefined ? undefined : this.#records.get(id);
  }

  /**
   * Imports the OCI image-layout archive at `archivePath`; returns the images it holds.
   * Throws DATA_LOSS for a blob whose digest or size is wrong, INVALID_ARGUMENT for an archive
   * that is not a valid layout; in both cases nothing of it stays in the store.
   */
  async importArchive(archivePath: string): Promise<ImageRecord[]> {
    return this.#lock.run('store', async () => {
      const staging = join(this.#dir, 'tmp', `import-${randomBytes(8).toString('hex')}`);
      try {
        return await this.#import(archivePath, staging);
      } catch (err) {
        if (err instanceof ChurnError) throw err.wrap(`import ${archivePath}`);
        throw new ChurnError(
          'INVALID_ARGUMENT',
          `import ${archivePath}: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      } finally {
        await removeTree(staging);
      }
    });
  }

  /**
   * Removes the image named by `ref` (every tag of it): it disappears from lookups and listings
   * at once. When `inUse(id)` says containers still use it, its files stay until {@link purge};
   * otherwise they go now, with the blobs no other image uses. Returns the image, or undefined
   * when `ref` names none. Throws FAILED_PRECONDITION for the built-in host image.
   */
  async remove(ref: string, inUse: (id: string) => boolean): Promise<Image | undefined> {
    return this.#lock.run('store', async () => {
      const record = this.get(ref);
      if (record === undefined) return undefined;
      if (record.image.builtin) {
        throw new ChurnError(
          'FAILED_PRECONDITION',
          `image "${ref}": the built-in host image cannot be removed`,
        );
      }
      const hidden: ImageRecord = {
        ...record,
        image: { ...record.image, repoTags: [], repoDigests: [] },
        removed: true,
      };
      // The mark goes to disk first, even when the files go now: a crash before they are gone
      // leaves a hidden image, which the next opening purges, never a visible one without files.
      await this.#writeMeta(hidden);
      // Hidden and decided in one step (no await between): no container can be created from it
      // after `inUse` answers, and a create that already holds the record makes `inUse` true.
      this.#records.set(record.image.id, hidden);
      for (const tag of record.image.repoTags) {
        if (this.#byTag.get(tag) === record.image.id) this.#byTag.delete(tag);
      }
      const keep = inUse(record.image.id);
      if (!keep) await this.#purge(hidden);
      return record.image;
    });
  }

  /**
   * Deletes the files of image `id` if it is removed (hidden) and `inUse(id)` says no container
   * uses it any more; true when it did. Nothing happens for a visible image: importing it again
   * after its removal made it one.
   */
  async purge(id: string, inUse: (id: string) => boolean): Promise<boolean> {
    return this.#lock.run('store', async () => {
      const record = this.#records.get(id);
      if (record?.removed !== true || inUse(id)) return false;
      await this.#purge(record);
      return true;
    });
  }

  /** Deletes a hidden image's rootfs, the blobs only it used, then its record. Store lock held. */
  async #purge(record: ImageRecord): Promise<void> {
    await removeTree(record.rootfs);
    const used = this.#blobsInUse(record.image.id);
    for (const blob of record.blobs) {
      if (!used.has(blob)) await rm(this.#blobPath(blob), { force: true });
    }
    // The record goes last: until then a crash leaves the image hidden, and it is purged again.
    await rm(join(this.#dir, 'meta', `${record.image.id.slice(7)}.json`), { force: true });
    this.#records.delete(record.image.id);
  }

  /** The blobs of every record but `exceptId`'s. */
  #blobsInUse(exceptId?: string): Set<string> {
    const used = new Set<string>();
    for (const r of this.#records.values()) {
      if (r.image.id !== exceptId) for (const blob of r.blobs) used.add(blob);
    }
    return used;
  }

  /** Usage of the filesystem holding the store. */
  async fsUsage(nowNs: bigint): Promise<FilesystemUsage> {
    let usedBytes = 0;
    let inodesUsed = 0;
    for (const name of await readdir(join(this.#dir, 'content', 'sha256'))) {
      const s = await stat(join(this.#dir, 'content', 'sha256', name)).catch(() => undefined);
      if (s === undefined) continue;
      usedBytes += s.size;
      inodesUsed += 1;
    }
    return { timestampNs: nowNs, mountpoint: this.#dir, usedBytes, inodesUsed };
  }

  #rootfsPath(id: string): string {
    return join(this.#dir, 'rootfs', id.slice('sha256:'.length));
  }

  #blobPath(digest: string): string {
    return join(this.#dir, 'content', 'sha256', digest.slice('sha256:'.length));
  }

  #index(record: ImageRecord): void {
    this.#records.set(record.image.id, record);
    if (record.removed === true) return;
    for (const tag of record.image.repoTags) this.#byTag.set(tag, record.image.id);
  }

  async #import(archivePath: string, staging: string): Promise<ImageRecord[]> {
    const blobDir = join(staging, 'blobs');
    await mkdir(blobDir, { recursive: true });
    const blobSizes = new Map<string, number>();
    let layoutText: string | undefined;
    let indexText: string | undefined;
    await forEachTarEntry(createReadStream(archivePath), [], async (entry) => {
      const name = entry.header.name.replace(/^\.\//, '').replace(/\/$/, '');
      if (entry.header.type === 'directory') return;
      if (name === 'oci-layout') {
        layoutText = await readSmall(entry, name);
        return;
      }
      if (name === 'index.json') {
        indexText = await readSmall(entry, name);
        return;
      }
      const m = /^blobs\/([^/]+)\/([^/]+)$/.exec(name);
      if (m === null) return;
      const [, alg, hex] = m as unknown as [string, string, string];
      if (alg !== 'sha256' || !/^[a-f0-9]{64}$/.test(hex)) {
        throw new ChurnError('INVALID_ARGUMENT', `blob ${name}: only sha256 digests are supported`);
      }
      if (entry.header.type !== 'file' && entry.header.type !== 'contiguous-file') {
        throw new ChurnError('INVALID_ARGUMENT', `blob ${name}: is not a regular file`);
      }
      const hash = createHash('sha256');
      let size = 0;
      await copyEntryToFile(entry, join(blobDir, hex), 0o644, (chunk) => {
        hash.update(chunk);
        size += chunk.length;
      });
      const actual = hash.digest('hex');
      if (actual !== hex) {
        throw new ChurnError(
          'DATA_LOSS',
          `blob sha256:${hex}: content has digest sha256:${actual}`,
        );
      }
      blobSizes.set(`sha256:${hex}`, size);
    });
    if (layoutText === undefined)
      throw new ChurnError('INVALID_ARGUMENT', 'no oci-layout file: not an OCI image layout');
    checkOciLayout(layoutText);
    if (indexText === undefined) throw new ChurnError('INVALID_ARGUMENT', 'no index.json');
    const index = parseIndex(indexText, 'index.json');

    const readBlob = async (desc: Descriptor, what: string): Promise<string> => {
      checkBlob(desc, what);
      if (desc.size > maxJsonBytes)
        throw new ChurnError('INVALID_ARGUMENT', `${what} is larger than 4 MiB`);
      return readFile(join(blobDir, desc.digest.slice(7)), 'utf8');
    };
    const checkBlob = (desc: Descriptor, what: string): void => {
      const size = blobSizes.get(desc.digest);
      if (size === undefined) {
        throw new ChurnError('INVALID_ARGUMENT', `${what} ${desc.digest} is not in the archive`);
      }
      if (size !== desc.size) {
        throw new ChurnError(
          'DATA_LOSS',
          `${what} ${desc.digest}: size ${size}, descriptor says ${desc.size}`,
        );
      }
    };

    // Resolve every top-level entry to one manifest (an index picks this platform).
    const found: { desc: Descriptor; refs: string[] }[] = [];
    for (const [i, top] of index.manifests.entries()) {
      const refs = refsOf(top);
      let desc = top;
      for (let depth = 0; isIndexMediaType(desc.mediaType); depth++) {
        if (depth > 4) throw new ChurnError('INVALID_ARGUMENT', 'index nesting is too deep');
        const nested = parseIndex(await readBlob(desc, `index`), `index ${desc.digest}`);
        const pick =
          nested.manifests.find(
            (m) => m.platform?.os === 'linux' && m.platform.architecture === goArch(),
          ) ?? nested.manifests.find((m) => m.platform === undefined);
        if (pick === undefined) {
          throw new ChurnError(
            'INVALID_ARGUMENT',
            `index ${desc.digest} has no manifest for linux/${goArch()}`,
          );
        }
        desc = pick;
      }
      if (!isManifestMediaType(desc.mediaType)) {
        throw new ChurnError(
          'INVALID_ARGUMENT',
          `index.json manifests[${i}]: unsupported media type ${desc.mediaType}`,
        );
      }
      const same = found.find((f) => f.desc.digest === desc.digest);
      if (same === undefined) found.push({ desc, refs });
      else same.refs.push(...refs.filter((r) => !same.refs.includes(r)));
    }

    const imported: { record: ImageRecord; staged: string | undefined }[] = [];
    for (const { desc, refs } of found) {
      const manifest = parseManifest(await readBlob(desc, 'manifest'), `manifest ${desc.digest}`);
      const configText = await readBlob(manifest.config, 'config');
      const config = parseImageConfig(configText, `config ${manifest.config.digest}`);
      for (const layer of manifest.layers) checkBlob(layer, 'layer');
      if (config.diffIds.length !== manifest.layers.length) {
        throw new ChurnError(
          'INVALID_ARGUMENT',
          `manifest ${desc.digest}: ${manifest.layers.length} layers but ${config.diffIds.length} diff ids`,
        );
      }
      const id = manifest.config.digest;
      const existing = this.#records.get(id);
      let rootfsStaged: string | undefined;
      if (existing === undefined) {
        rootfsStaged = join(staging, `rootfs-${id.slice(7)}`);
        await mkdir(rootfsStaged, { recursive: true });
        for (const [i, layer] of manifest.layers.entries()) {
          if (/zstd/.test(layer.mediaType)) {
            throw new ChurnError(
              'INVALID_ARGUMENT',
              `layer ${layer.digest}: zstd layers are not supported`,
            );
          }
          const applied = await applyLayer(rootfsStaged, join(blobDir, layer.digest.slice(7)));
          if (applied.diffId !== config.diffIds[i]) {
            throw new ChurnError(
              'DATA_LOSS',
              `layer ${layer.digest}: uncompressed digest ${applied.diffId}, config says ${config.diffIds[i] ?? 'nothing'}`,
            );
          }
        }
      }
      const spec: ImageSpec = {
        user: config.config.User,
        entrypoint: config.config.Entrypoint,
        cmd: config.config.Cmd,
        env: config.config.Env,
        workingDir: config.config.WorkingDir,
      };
      // A removed image imported again comes back with only the references this archive gives.
      const tags = [...new Set([...(existing?.image.repoTags ?? []), ...refs])];
      const image: Image = {
        id,
        repoTags: tags,
        repoDigests: [...new Set(tags.map((t) => `${repositoryOf(t)}@${desc.digest}`))],
        sizeBytes: manifest.layers.reduce((sum, l) => sum + l.size, 0),
        spec,
        builtin: false,
      };
      const record: ImageRecord = {
        image,
        rootfs: this.#rootfsPath(id),
        manifestDigest: desc.digest,
        blobs: [desc.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)],
      };
      imported.push({ record, staged: rootfsStaged });
    }

    // Everything verified: move into place. The meta file goes last: it makes the image exist.
    for (const { record, staged } of imported) {
      for (const blob of record.blobs) {
        const target = this.#blobPath(blob);
        if (!(await exists(target))) await rename(join(blobDir, blob.slice(7)), target);
      }
      if (staged !== undefined) {
        await removeTree(record.rootfs);
        await rename(staged, record.rootfs);
      }
      await this.#untagOthers(record);
      await this.#writeMeta(record);
      this.#index(record);
    }
    return imported.map(({ record }) => this.#records.get(record.image.id)!);
  }

  /** Takes `record`'s tags away from other images that had them. */
  async #untagOthers(record: ImageRecord): Promise<void> {
    for (const tag of record.image.repoTags) {
      const ownerId = this.#byTag.get(tag);
      if (ownerId === undefined || ownerId === record.image.id) continue;
      const owner = this.#records.get(ownerId);
      if (owner === undefined || owner.image.builtin) continue;
      const repoTags = owner.image.repoTags.filter((t) => t !== tag);
      const updated: ImageRecord = {
        ...owner,
        image: {
          ...owner.image,
          repoTags,
          repoDigests: [
            ...new Set(repoTags.map((t) => `${repositoryOf(t)}@${owner.manifestDigest}`)),
          ],
        },
      };
      await this.#writeMeta(updated);
      this.#records.set(ownerId, updated);
      this.#byTag.delete(tag);
    }
  }

  async #writeMeta(record: ImageRecord): Promise<void> {
    const meta: MetaFile = {
      version: 1,
      image: record.image,
      manifestDigest: record.manifestDigest,
      blobs: record.blobs,
      ...(record.removed === true ? { removed: true } : {}),
    };
    await writeFileAtomic(
      join(this.#dir, 'meta', `${record.image.id.slice(7)}.json`),
      JSON.stringify(meta),
      { durable: this.#durable },
    );
  }
}

/** The normalised references an index entry names. */
export function refsOf(desc: Descriptor): string[] {
  // containerd's annotation is a full reference; OCI's may be just a tag, so it is used (and
  // normalised like a docker reference) only when containerd's is absent.
  const value =
    desc.annotations[containerdImageNameAnnotation] ?? desc.annotations[ociRefNameAnnotation];
  if (value === undefined) return [];
  const normalized = tryNormalizeReference(value);
  return normalized !== undefined && !normalized.includes('@') ? [normalized] : [];
}

function goArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function readSmall(stream: AsyncIterable<Buffer>, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > maxJsonBytes)
      throw new ChurnError('INVALID_ARGUMENT', `${what} is larger than 4 MiB`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
