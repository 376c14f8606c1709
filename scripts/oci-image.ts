/**
 * Builds OCI image-layout archives (.tar, what `ctr images import` and churn's core import):
 * `oci-layout`, `index.json` with the refs as annotations, and `blobs/sha256/…` (gzipped
 * layers, config, manifest). Output is deterministic: fixed mtimes, sorted entries.
 *
 * Library: `buildOciArchive({ layers, config, refs, out })`, `busyboxLayer()`.
 * CLI:
 *   npx tsx scripts/oci-image.ts busybox --out busybox.tar [--ref REF]...
 *   npx tsx scripts/oci-image.ts pause   --out pause.tar   [--ref REF]...
 *   npx tsx scripts/oci-image.ts build   --dir DIR --out x.tar --ref REF [--entrypoint CMD]...
 * `busybox` takes Debian's /bin/busybox (busybox-static) with its applets as relative
 * symlinks; `pause` is busybox whose entrypoint sleeps until SIGTERM/SIGINT, then exits 0.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { pack as tarPack, type Pack } from 'tar-stream';
import { defaultPath } from '../src/runtime/executors/command-path.js';
import { normalizeReference } from '../src/runtime/images/reference.js';
import { runIfScript } from './run-if-script.js';

/** One entry of a layer given as a list. `whiteout` and `opaque` make OCI whiteout markers. */
export type LayerEntry =
  | {
      readonly path: string;
      readonly type: 'file';
      readonly content: string | Buffer;
      readonly mode?: number;
    }
  | { readonly path: string; readonly type: 'dir'; readonly mode?: number }
  | { readonly path: string; readonly type: 'symlink'; readonly target: string }
  | { readonly path: string; readonly type: 'hardlink'; readonly target: string }
  /** Removes `path` of the lower layers (`.wh.<name>`). */
  | { readonly path: string; readonly type: 'whiteout' }
  /** Hides everything the lower layers have in directory `path` (`.wh..wh..opq`). */
  | { readonly path: string; readonly type: 'opaque' };

/** A layer: a list of entries or a directory to copy; gzipped unless `gzip` is false. */
export type LayerSource =
  | { readonly entries: readonly LayerEntry[]; readonly gzip?: boolean }
  | { readonly dir: string; readonly gzip?: boolean };

/** The image config's runtime settings. */
export interface ImageConfigInput {
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly env?: readonly string[];
  readonly workingDir?: string;
  readonly user?: string;
}

/** Options of {@link buildOciArchive}. */
export interface BuildOciArchiveOptions {
  readonly layers: readonly LayerSource[];
  readonly config?: ImageConfigInput;
  /** References the image is imported as (normalised: `busybox` → docker.io/library/busybox:latest). */
  readonly refs: readonly string[];
  /** Path of the .tar to write (its directory is created). */
  readonly out: string;
  /**
   * Test hook: returns the bytes stored for a blob in place of `data` (its digest stays the
   * one of `data`), to make archives with a corrupt blob.
   */
  readonly tamperBlob?: (kind: 'layer' | 'config' | 'manifest', data: Buffer) => Buffer;
}

/** What {@link buildOciArchive} wrote. */
export interface BuiltArchive {
  readonly out: string;
  /** `sha256:…` of the config: the image id. */
  readonly imageId: string;
  readonly manifestDigest: string;
  readonly layerDigests: readonly string[];
  /** Normalised refs. */
  readonly refs: readonly string[];
}

const fixedMtime = new Date('2000-01-01T00:00:00Z');

/** Builds an OCI image-layout archive; see the module comment. */
export async function buildOciArchive(options: BuildOciArchiveOptions): Promise<BuiltArchive> {
  const blobs = new Map<string, Buffer>();
  const tamper = options.tamperBlob ?? ((_k, d: Buffer) => d);
  const addBlob = (
    kind: 'layer' | 'config' | 'manifest',
    data: Buffer,
  ): { digest: string; size: number } => {
    const digest = sha256(data);
    blobs.set(digest, tamper(kind, data));
    return { digest, size: data.length };
  };

  const layerDescs: { mediaType: string; digest: string; size: number }[] = [];
  const diffIds: string[] = [];
  for (const layer of options.layers) {
    const entries = 'dir' in layer ? await entriesOfDir(layer.dir) : layer.entries;
    const tarBytes = await tarOf(entries);
    diffIds.push(sha256(tarBytes));
    const gzip = layer.gzip ?? true;
    const data = gzip ? gzipSync(tarBytes, { level: 6 }) : tarBytes;
    layerDescs.push({
      mediaType: gzip
        ? 'application/vnd.oci.image.layer.v1.tar+gzip'
        : 'application/vnd.oci.image.layer.v1.tar',
      ...addBlob('layer', data),
    });
  }

  const c = options.config ?? {};
  const config = {
    created: fixedMtime.toISOString(),
    architecture: goArch(),
    os: 'linux',
    config: {
      ...(c.user !== undefined ? { User: c.user } : {}),
      Env: c.env ?? [`PATH=${defaultPath}`],
      ...(c.entrypoint !== undefined ? { Entrypoint: c.entrypoint } : {}),
      ...(c.cmd !== undefined ? { Cmd: c.cmd } : {}),
      WorkingDir: c.workingDir ?? '/',
    },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: options.layers.map(() => ({
      created: fixedMtime.toISOString(),
      created_by: 'churn scripts/oci-image.ts',
    })),
  };
  const configDesc = addBlob('config', Buffer.from(JSON.stringify(config)));
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configDesc },
    layers: layerDescs,
  };
  const manifestDesc = addBlob('manifest', Buffer.from(JSON.stringify(manifest)));

  const refs = options.refs.map((r) => normalizeReference(r));
  const manifestEntry = (annotations?: Record<string, string>): Record<string, unknown> => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    ...manifestDesc,
    ...(annotations ? { annotations } : {}),
    platform: { architecture: goArch(), os: 'linux' },
  });
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests:
      refs.length === 0
        ? [manifestEntry()]
        : refs.map((ref) =>
            manifestEntry({
              'io.containerd.image.name': ref,
              'org.opencontainers.image.ref.name': tagOf(ref),
            }),
          ),
  };

  const archive = tarPack();
  const done = collect(archive);
  await addEntry(
    archive,
    { name: 'oci-layout', type: 'file', mode: 0o644, mtime: fixedMtime },
    Buffer.from('{"imageLayoutVersion":"1.0.0"}'),
  );
  await addEntry(
    archive,
    { name: 'index.json', type: 'file', mode: 0o644, mtime: fixedMtime },
    Buffer.from(JSON.stringify(index)),
  );
  for (const dir of ['blobs/', 'blobs/sha256/'])
    await addEntry(archive, { name: dir, type: 'directory', mode: 0o755, mtime: fixedMtime });
  for (const [digest, data] of [...blobs.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    await addEntry(
      archive,
      { name: `blobs/sha256/${digest.slice(7)}`, type: 'file', mode: 0o644, mtime: fixedMtime },
      data,
    );
  }
  archive.finalize();
  const bytes = await done;
  await mkdir(dirname(options.out), { recursive: true });
  await writeFile(options.out, bytes);
  return {
    out: options.out,
    imageId: configDesc.digest,
    manifestDigest: manifestDesc.digest,
    layerDigests: layerDescs.map((l) => l.digest),
    refs,
  };
}

/** A layer with Debian's busybox-static as /bin/busybox and every applet as a relative symlink. */
export function busyboxLayer(busyboxPath = '/bin/busybox'): Promise<LayerSource> {
  return busyboxEntries(busyboxPath).then((entries) => ({ entries }));
}

async function busyboxEntries(busyboxPath: string): Promise<LayerEntry[]> {
  const binary = await readFile(busyboxPath);
  const applets = execFileSync(busyboxPath, ['--list-full'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && l !== 'bin/busybox');
  const dirs = new Set([
    'bin',
    'sbin',
    'usr',
    'usr/bin',
    'usr/sbin',
    'etc',
    'root',
    'tmp',
    'var',
    'dev',
    'proc',
    'sys',
  ]);
  const entries: LayerEntry[] = [...dirs].map((path) => ({
    path,
    type: 'dir',
    mode: path === 'tmp' ? 0o1777 : 0o755,
  }));
  entries.push({ path: 'bin/busybox', type: 'file', content: binary, mode: 0o755 });
  for (const applet of applets) {
    const target = posix.relative(posix.dirname(applet), 'bin/busybox');
    entries.push({ path: applet, type: 'symlink', target });
  }
  entries.push({
    path: 'etc/passwd',
    type: 'file',
    content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
  });
  entries.push({ path: 'etc/group', type: 'file', content: 'root:x:0:\nnogroup:x:65534:\n' });
  return entries;
}

/** The shell script the pause image runs: sleeps until SIGTERM or SIGINT, then exits 0. */
export const pauseScript =
  'trap "kill \\$! 2>/dev/null; exit 0" TERM INT; while :; do sleep 3600 & wait $!; done';

/** Builds the busybox image (`sh` as its command). */
export async function buildBusyboxArchive(
  out: string,
  refs: readonly string[] = ['docker.io/library/busybox:latest'],
): Promise<BuiltArchive> {
  return buildOciArchive({ layers: [await busyboxLayer()], config: { cmd: ['sh'] }, refs, out });
}

/** Builds the pause image (busybox whose entrypoint sleeps until SIGTERM/SIGINT). */
export async function buildPauseArchive(
  out: string,
  refs: readonly string[] = ['registry.k8s.io/pause:3.6'],
): Promise<BuiltArchive> {
  return buildOciArchive({
    layers: [await busyboxLayer()],
    config: { entrypoint: ['/bin/sh', '-c', pauseScript] },
    refs,
    out,
  });
}

/** Options of {@link entriesOfDir}. */
export interface EntriesOfDirOptions {
  /** Path in the image the directory's content goes under (`app/dist`); default the root. */
  readonly prefix?: string;
  /** Leaves out what this returns true for (a path relative to the directory) and below it. */
  readonly skip?: (relativePath: string) => boolean;
}

/** The entries of a layer that copies directory `root` (modes, symlinks, hard links kept). */
export async function entriesOfDir(
  root: string,
  options: EntriesOfDirOptions = {},
): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  const seenInodes = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const full = join(dir, name);
      const inDir = relative(root, full).split('\\').join('/');
      if (options.skip?.(inDir) === true) continue;
      const rel = options.prefix === undefined ? inDir : posix.join(options.prefix, inDir);
      const st = await lstat(full);
      if (st.isDirectory()) {
        entries.push({ path: rel, type: 'dir', mode: st.mode & 0o7777 });
        await walk(full);
      } else if (st.isSymbolicLink()) {
        entries.push({ path: rel, type: 'symlink', target: await readlink(full) });
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? seenInodes.get(key) : undefined;
        if (first !== undefined) {
          entries.push({ path: rel, type: 'hardlink', target: first });
        } else {
          if (st.nlink > 1) seenInodes.set(key, rel);
          entries.push({
            path: rel,
            type: 'file',
            content: await readFile(full),
            mode: st.mode & 0o7777,
          });
        }
      }
    }
  };
  await walk(root);
  return entries;
}

async function tarOf(entries: readonly LayerEntry[]): Promise<Buffer> {
  const archive = tarPack();
  const done = collect(archive);
  for (const e of entries) {
    const base = { mtime: fixedMtime, uid: 0, gid: 0 };
    switch (e.type) {
      case 'file':
        await addEntry(
          archive,
          { ...base, name: e.path, type: 'file', mode: e.mode ?? 0o644 },
          Buffer.from(e.content),
        );
        break;
      case 'dir':
        await addEntry(archive, {
          ...base,
          name: `${e.path}/`,
          type: 'directory',
          mode: e.mode ?? 0o755,
        });
        break;
      case 'symlink':
        await addEntry(archive, {
          ...base,
          name: e.path,
          type: 'symlink',
          linkname: e.target,
          mode: 0o777,
        });
        break;
      case 'hardlink':
        await addEntry(archive, {
          ...base,
          name: e.path,
          type: 'link',
          linkname: e.target,
          mode: 0o644,
        });
        break;
      case 'whiteout':
        await addEntry(
          archive,
          {
            ...base,
            name: posix.join(posix.dirname(e.path), `.wh.${posix.basename(e.path)}`),
            type: 'file',
            mode: 0o644,
          },
          Buffer.alloc(0),
        );
        break;
      case 'opaque':
        await addEntry(
          archive,
          { ...base, name: posix.join(e.path, '.wh..wh..opq'), type: 'file', mode: 0o644 },
          Buffer.alloc(0),
        );
        break;
    }
  }
  archive.finalize();
  return done;
}

type EntryHeader = Parameters<Pack['entry']>[0];

function addEntry(archive: Pack, header: EntryHeader, data?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
    if (data === undefined) archive.entry(header, cb);
    else archive.entry(header, data, cb);
  });
}

function collect(archive: Pack): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    archive.on('data', (chunk: unknown) => {
      chunks.push(chunk as Buffer);
    });
    archive.on('end', () => resolve(Buffer.concat(chunks)));
    archive.on('error', reject);
  });
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function tagOf(ref: string): string {
  const noDigest = ref.split('@')[0]!;
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(colon + 1) : 'latest';
}

function goArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch;
}

/** The CLI; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const usage =
    'usage: oci-image.ts busybox|pause --out FILE [--ref REF]...\n' +
    '       oci-image.ts build --dir DIR --out FILE --ref REF [--entrypoint ARG]... [--cmd ARG]... [--env K=V]... [--workdir DIR]\n';
  const { values } = parseArgs({
    args: rest,
    options: {
      out: { type: 'string' },
      ref: { type: 'string', multiple: true },
      dir: { type: 'string' },
      entrypoint: { type: 'string', multiple: true },
      cmd: { type: 'string', multiple: true },
      env: { type: 'string', multiple: true },
      workdir: { type: 'string' },
    },
    strict: true,
  });
  if (values.out === undefined) {
    process.stderr.write(usage);
    return 2;
  }
  let built: BuiltArchive;
  if (command === 'busybox') {
    built = await buildBusyboxArchive(values.out, values.ref ?? undefined);
  } else if (command === 'pause') {
    built = await buildPauseArchive(values.out, values.ref ?? undefined);
  } else if (command === 'build' && values.dir !== undefined) {
    built = await buildOciArchive({
      layers: [{ dir: values.dir }],
      config: {
        ...(values.entrypoint ? { entrypoint: values.entrypoint } : {}),
        ...(values.cmd ? { cmd: values.cmd } : {}),
        ...(values.env ? { env: values.env } : {}),
        ...(values.workdir !== undefined ? { workingDir: values.workdir } : {}),
      },
      refs: values.ref ?? [],
      out: values.out,
    });
  } else {
    process.stderr.write(usage);
    return 2;
  }
  process.stdout.write(`${built.out} ${built.imageId} ${built.refs.join(' ')}\n`);
  return 0;
}

runIfScript(import.meta.url, 'oci-image', main);
