/**
 * Applies one image layer (a tar, gzipped or not) onto a rootfs directory, as an OCI image
 * layer changeset: entries are added or replace what lower layers had, `.wh.NAME` removes
 * NAME of the lower layers and `.wh..wh..opq` hides everything lower layers had in its
 * directory. No entry may leave the rootfs: names with `..` that climb out are refused, and
 * parent directories are resolved inside the rootfs, so a symlink from a lower layer cannot
 * redirect a write to the host. Directory modes, set at the end, are set only on what is still
 * a directory there (a later entry may have replaced it with a symlink out); a whiteout
 * removes one entry of its own directory (never `.` or `..`); names longer than PATH_MAX or
 * with a component longer than NAME_MAX are refused. Every refusal is INVALID_ARGUMENT.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  chmod,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  readdir,
  rm,
  symlink,
} from 'node:fs/promises';
import { posix } from 'node:path';
import { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ChurnError } from '../../common/errors.js';
import { resolveInRoot } from '../rootfs-path.js';
import { copyEntryToFile, forEachTarEntry, type TarEntry } from './tar-entries.js';

const whiteoutPrefix = '.wh.';
const opaqueWhiteout = '.wh..wh..opq';

/** What applying a layer found. */
export interface AppliedLayer {
  /** `sha256:…` of the uncompressed tar: the layer's diff id. */
  readonly diffId: string;
  /** Entries skipped because they cannot be made here (devices without privilege). */
  readonly skipped: number;
}

/** Options for {@link applyLayer}. */
export interface ApplyLayerOptions {
  /** Set owners from the tar headers (needs root). Default: when running as root. */
  readonly chown?: boolean;
}

/**
 * Applies the layer in file `layerPath` onto `rootfs` (which must exist). Gzip is detected
 * from the content. Throws INVALID_ARGUMENT for an entry that would escape the rootfs, and
 * DATA_LOSS for a corrupt stream.
 */
export async function applyLayer(
  rootfs: string,
  layerPath: string,
  options: ApplyLayerOptions = {},
): Promise<AppliedLayer> {
  const chown = options.chown ?? process.getuid?.() === 0;
  const gzipped = await isGzip(layerPath);
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const state: LayerState = { rootfs, written: new Set(), dirModes: [], skipped: 0, chown };
  try {
    await forEachTarEntry(
      createReadStream(layerPath),
      gzipped ? [createGunzip(), tap] : [tap],
      (entry) => applyEntry(state, entry),
    );
  } catch (err) {
    if (err instanceof ChurnError) throw err;
    throw new ChurnError('DATA_LOSS', `layer ${layerPath}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  // Directory modes last, deepest first, so a read-only directory did not block its content.
  // A later entry may have replaced a directory with a symlink (to a host path, say): each is
  // resolved in the rootfs again and set only if it is still a directory, never through a link.
  for (const { rel, mode } of state.dirModes.reverse()) {
    const path = await resolveInRoot(rootfs, rel, { followFinal: false });
    const stat = await lstat(path).catch(() => undefined);
    if (stat?.isDirectory() === true) await chmod(path, mode);
  }
  return { diffId: `sha256:${hash.digest('hex')}`, skipped: state.skipped };
}

interface LayerState {
  readonly rootfs: string;
  /** Rootfs-relative paths this layer wrote, for opaque whiteouts. */
  readonly written: Set<string>;
  /** Rootfs-relative directories ('' for the root) and the modes their entries gave. */
  readonly dirModes: { rel: string; mode: number }[];
  skipped: number;
  readonly chown: boolean;
}

async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/** Longest entry or link name taken (PATH_MAX), and longest component (NAME_MAX). */
const maxNameBytes = 4096;
const maxComponentBytes = 255;

/** The entry's path relative to the rootfs ('' for the root), refusing escapes. */
function entryPath(name: string): string {
  if (Buffer.byteLength(name) > maxNameBytes)
    throw new ChurnError(
      'INVALID_ARGUMENT',
      `layer entry "${name.slice(0, 64)}…" has a name over ${String(maxNameBytes)} bytes`,
    );
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (Buffer.byteLength(part) > maxComponentBytes)
      throw new ChurnError(
        'INVALID_ARGUMENT',
        `layer entry "${name.slice(0, 64)}…" has a component over ${String(maxComponentBytes)} bytes`,
      );
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) {
        throw new ChurnError('INVALID_ARGUMENT', `layer entry "${name}" escapes the rootfs`);
      }
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  return parts.join('/');
}

async function applyEntry(state: LayerState, entry: TarEntry): Promise<void> {
  const { header } = entry;
  const rel = entryPath(header.name);
  const base = posix.basename(rel);
  const dirRel = posix.dirname(rel) === '.' ? '' : posix.dirname(rel);
  if (base === opaqueWhiteout) {
    const dirHost = await resolveInRoot(state.rootfs, dirRel);
    await removeLower(state, dirRel, dirHost);
    return;
  }
  if (base.startsWith(whiteoutPrefix)) {
    const victim = base.slice(whiteoutPrefix.length);
    // `.wh..` and `.wh...` would name the directory itself or its parent (the rootfs's parent
    // at the top): a whiteout removes one entry of its directory, nothing else.
    if (victim === '' || victim === '.' || victim === '..')
      throw new ChurnError(
        'INVALID_ARGUMENT',
        `layer entry "${header.name}" whites out "${victim}"`,
      );
    const victimRel = posix.join(dirRel, victim);
    if (!state.written.has(victimRel)) {
      const parentHost = await resolveInRoot(state.rootfs, dirRel);
      await rm(posix.join(parentHost, victim), {
        recursive: true,
        force: true,
      });
    }
    return;
  }
  if (rel === '') {
    // The root itself: only its mode matters.
    if (header.type === 'directory') {
      state.dirModes.push({ rel: '', mode: header.mode & 0o7777 });
    }
    return;
  }
  const parentHost = await resolveInRoot(state.rootfs, dirRel);
  await mkdir(parentHost, { recursive: true });
  const dest = posix.join(parentHost, base);
  const existing = await lstat(dest).catch(() => undefined);
  const mode = header.mode & 0o7777;
  switch (header.type) {
    case 'directory': {
      if (existing !== undefined && !existing.isDirectory())
        await rm(dest, { recursive: true, force: true });
      if (existing === undefined || !existing.isDirectory()) await mkdir(dest, { mode: 0o700 });
      await chmod(dest, mode | 0o700);
      state.dirModes.push({ rel, mode });
      break;
    }
    case 'file':
    case 'contiguous-file': {
      if (existing !== undefined) await rm(dest, { recursive: true, force: true });
      await copyEntryToFile(entry, dest, 0o600);
      await chmod(dest, mode);
      break;
    }
    case 'symlink': {
      if (existing !== undefined) await rm(dest, { recursive: true, force: true });
      const target = header.linkname;
      if (target === '' || Buffer.byteLength(target) > maxNameBytes || target.includes('\0'))
        throw new ChurnError(
          'INVALID_ARGUMENT',
          `layer entry "${header.name}" is a symlink with an empty, NUL-holding or over-long target`,
        );
      await symlink(target, dest);
      break;
    }
    case 'link': {
      const targetRel = entryPath(header.linkname);
      const target = await resolveInRoot(state.rootfs, targetRel, { followFinal: false });
      if (existing !== undefined) await rm(dest, { recursive: true, force: true });
      await link(target, dest);
      break;
    }
    default:
      // Devices and fifos need privileges (mknod) the core does not assume.
      state.skipped += 1;
      return;
  }
  state.written.add(rel);
  if (state.chown) {
    await lchown(dest, header.uid, header.gid);
    // chown clears setuid/setgid bits: restore the mode.
    if (header.type !== 'symlink' && (mode & 0o6000) !== 0) await chmod(dest, mode);
  }
  if (header.type !== 'directory') {
    await lutimes(dest, header.mtime, header.mtime).catch(() => undefined);
  }
}

/** Removes what lower layers left under `dirRel`, keeping what this layer wrote. */
async function removeLower(state: LayerState, dirRel: string, dirHost: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dirHost);
  } catch {
    return;
  }
  for (const name of names) {
    const childRel = dirRel === '' ? name : `${dirRel}/${name}`;
    const childHost = posix.join(dirHost, name);
    if (!state.written.has(childRel)) {
      await rm(childHost, { recursive: true, force: true });
    } else if ((await lstat(childHost)).isDirectory()) {
      await removeLower(state, childRel, childHost);
    }
  }
}

/** Removes `path` even when it holds read-only directories. */
export async function removeTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true }).catch(async () => {
    await makeWritable(path);
    await rm(path, { recursive: true, force: true });
  });
}

async function makeWritable(path: string): Promise<void> {
  const stat = await lstat(path).catch(() => undefined);
  if (stat === undefined || !stat.isDirectory()) return;
  await chmod(path, 0o700);
  for (const name of await readdir(path)) await makeWritable(posix.join(path, name));
}
