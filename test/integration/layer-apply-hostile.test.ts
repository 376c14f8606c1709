// Hostile image layers never reach outside the rootfs: layers built at random from the
// entries attackers use (directory then symlink of the same name, absolute and `..` symlinks
// to host paths, hardlinks out, whiteouts of `.` and `..`, devices, over-long names) are
// applied onto a rootfs next to a "host" directory; not a byte, mode, owner or time outside the
// rootfs changes, nothing appears there, and the only failures are the core's own answers.
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pack as tarPack, type Header } from 'tar-stream';
import { isChurnError } from '../../src/common/errors.js';
import { applyLayer, removeTree } from '../../src/runtime/images/layer-apply.js';
import { tempDir } from '../support/core-fixtures.js';

/** One tar entry: a header and, for files, content. */
interface Entry {
  readonly header: Partial<Header> & { readonly name: string };
  readonly content?: string;
}

async function writeTar(path: string, entries: readonly Entry[]): Promise<void> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const { header, content } of entries) {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null): void => {
        if (err) reject(err);
        else resolve();
      };
      if (content === undefined) pack.entry(header, done);
      else pack.entry(header, content, done);
    });
  }
  pack.finalize();
  await collected;
  await writeFile(path, Buffer.concat(chunks));
}

/** Everything under `dir` but `skip`: type, mode, owner, size, mtime, content or target. */
function snapshot(dir: string, skip: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (path: string): void => {
    if (path === skip) return;
    const s = lstatSync(path);
    let body = '';
    if (s.isFile()) body = createHash('sha256').update(readFileSync(path)).digest('hex');
    else if (s.isSymbolicLink()) body = readlinkSync(path);
    out.set(path, [s.mode.toString(8), s.uid, s.gid, s.size, s.mtimeMs, s.nlink, body].join(' '));
    if (s.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return out;
}

/** A world: a host directory with secrets beside a store holding the rootfs. */
async function world() {
  const dir = await tempDir();
  const host = join(dir, 'host');
  await mkdir(join(host, 'd'), { recursive: true });
  await writeFile(join(host, 'd', 'f'), 'secret', { mode: 0o600 });
  await writeFile(join(host, 'g'), 'other secret', { mode: 0o600 });
  await chmod(join(host, 'd'), 0o700);
  await mkdir(join(dir, 'store'));
  await writeFile(join(dir, 'store', 'sibling'), 'next to the rootfs');
  const rootfs = join(dir, 'store', 'rootfs');
  await mkdir(rootfs);
  const layer = join(dir, 'layer.tar');
  await writeFile(layer, '');
  return { dir, host, rootfs, layer };
}

/** Applies `entries` on a fresh rootfs; returns the ChurnError code if the core refused it. */
async function apply(
  w: Awaited<ReturnType<typeof world>>,
  entries: readonly Entry[],
): Promise<string | undefined> {
  // Emptied, not recreated: the store's own times stay as the snapshot saw them.
  await chmod(w.rootfs, 0o755);
  for (const name of await readdir(w.rootfs)) await removeTree(join(w.rootfs, name));
  await writeTar(w.layer, entries);
  try {
    await applyLayer(w.rootfs, w.layer);
    return undefined;
  } catch (err) {
    if (!isChurnError(err)) throw err;
    return err.code;
  }
}

function unchanged(w: Awaited<ReturnType<typeof world>>, before: Map<string, string>): void {
  const after = snapshot(w.dir, w.rootfs);
  after.delete(w.layer);
  const was = new Map(before);
  was.delete(w.layer);
  expect(Object.fromEntries(after)).toEqual(Object.fromEntries(was));
}

const dir = (name: string, mode = 0o777): Entry => ({ header: { name, type: 'directory', mode } });
const link = (name: string, target: string): Entry => ({
  header: { name, type: 'symlink', linkname: target },
});

describe('applying a hostile layer', () => {
  it('a directory, then a symlink of the same name to a host directory, leaves the host alone', async () => {
    const w = await world();
    const before = snapshot(w.dir, w.rootfs);
    expect(
      await apply(w, [
        dir('d', 0o777),
        dir('f', 0o777),
        link('d', join(w.host, 'd')),
        link('f', join(w.host, 'd', 'f')),
      ]),
    ).toBeUndefined();
    unchanged(w, before);
    // The link was made, inside the rootfs, as the layer says.
    expect(readlinkSync(join(w.rootfs, 'd'))).toBe(join(w.host, 'd'));
  });

  it('refuses whiteouts of the directory itself and of its parent', async () => {
    const w = await world();
    const before = snapshot(w.dir, w.rootfs);
    for (const name of ['.wh..', '.wh...', 'a/.wh...']) {
      expect(await apply(w, [dir('a'), { header: { name, type: 'file' }, content: '' }])).toBe(
        'INVALID_ARGUMENT',
      );
      unchanged(w, before);
    }
  });

  it('refuses names over PATH_MAX and components over NAME_MAX', async () => {
    const w = await world();
    const long = `${'a'.repeat(200)}/`.repeat(25);
    expect(await apply(w, [{ header: { name: long, type: 'file' }, content: 'x' }])).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      await apply(w, [{ header: { name: 'b'.repeat(300), type: 'file' }, content: 'x' }]),
    ).toBe('INVALID_ARGUMENT');
  });

  it('changes nothing outside the rootfs, whatever the layer (fast-check)', async () => {
    const w = await world();
    const before = snapshot(w.dir, w.rootfs);
    const names = fc.constantFrom(
      'a',
      'b',
      'a/b',
      'a/b/c',
      'b/c',
      'x/../a',
      '../host',
      '../../host/d/f',
      '/abs',
      '.',
      './a',
      'a/.wh.b',
      '.wh.a',
      '.wh.b',
      '.wh..',
      '.wh...',
      'a/.wh..wh..opq',
      '.wh..wh..opq',
    );
    const targets = fc.constantFrom(
      w.host,
      join(w.host, 'd'),
      join(w.host, 'd', 'f'),
      join(w.host, 'g'),
      '../../host',
      '../../../',
      '..',
      '/',
      'a',
      '/a/b',
      'b/c',
    );
    const mode = fc.constantFrom(0o777, 0o755, 0o700, 0o000, 0o4755, 0o1777);
    const entry: fc.Arbitrary<Entry> = fc.oneof(
      fc.record({ name: names, mode }).map(({ name, mode: m }) => dir(name, m)),
      fc
        .record({ name: names, mode, content: fc.string({ maxLength: 8 }) })
        .map(({ name, mode: m, content }) => ({
          header: { name, type: 'file' as const, mode: m },
          content,
        })),
      fc.record({ name: names, target: targets }).map(({ name, target }) => link(name, target)),
      fc.record({ name: names, target: fc.oneof(names, targets) }).map(({ name, target }) => ({
        header: { name, type: 'link' as const, linkname: target },
      })),
      names.map((name) => ({
        header: { name, type: 'character-device' as const, devmajor: 1, devminor: 3 },
      })),
      names.map((name) => ({ header: { name, type: 'fifo' as const } })),
    );
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 10 }), async (entries) => {
        const code = await apply(w, entries);
        outcomes.set(code ?? 'applied', (outcomes.get(code ?? 'applied') ?? 0) + 1);
        // Refusals are the core's chosen answers, never an internal error.
        expect(['applied', 'INVALID_ARGUMENT', 'DATA_LOSS']).toContain(code ?? 'applied');
        unchanged(w, before);
      }),
      { numRuns: 400 },
    );
    // Both outcomes were exercised: the property saw layers applied and layers refused.
    expect(outcomes.get('applied') ?? 0).toBeGreaterThan(50);
    expect(outcomes.get('INVALID_ARGUMENT') ?? 0).toBeGreaterThan(10);
  }, 120_000);
});
