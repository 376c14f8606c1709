/**
 * The directory of OCI image-layout archives that "pull" resolves from: which archive provides
 * which reference, read from each archive's index.json annotations. Never the network.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { refsOf } from './image-store.js';
import { parseIndex } from './oci-layout.js';
import { forEachTarEntry } from './tar-entries.js';

interface Scanned {
  readonly mtimeMs: number;
  readonly size: number;
  readonly refs: readonly string[];
}

/** Finds the archive providing a reference; rescans archives whose size or mtime changed. */
export class ArchiveCatalog {
  readonly #dir: string;
  readonly #scanned = new Map<string, Scanned>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Path of an archive whose index names `normalizedRef`, or undefined. */
  async find(normalizedRef: string): Promise<string | undefined> {
    let names: string[];
    try {
      names = (await readdir(this.#dir)).filter((n) => n.endsWith('.tar')).sort();
    } catch {
      return undefined;
    }
    for (const name of names) {
      const path = join(this.#dir, name);
      const refs = await this.#refs(path);
      if (refs.includes(normalizedRef)) return path;
    }
    return undefined;
  }

  async #refs(path: string): Promise<readonly string[]> {
    const st = await stat(path).catch(() => undefined);
    if (st === undefined) return [];
    const cached = this.#scanned.get(path);
    if (cached !== undefined && cached.mtimeMs === st.mtimeMs && cached.size === st.size)
      return cached.refs;
    let refs: string[] = [];
    try {
      await forEachTarEntry(createReadStream(path), [], async (entry) => {
        if (entry.header.name.replace(/^\.\//, '') !== 'index.json') return;
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk);
        const index = parseIndex(Buffer.concat(chunks).toString('utf8'), `${path} index.json`);
        refs = index.manifests.flatMap((m) => refsOf(m));
      });
    } catch {
      refs = []; // not an archive we can read: it provides nothing
    }
    this.#scanned.set(path, { mtimeMs: st.mtimeMs, size: st.size, refs });
    return refs;
  }
}
