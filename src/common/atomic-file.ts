/** Files written so a reader sees the old content or the new, never a torn mix. */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { ChurnError } from './errors.js';

/** Options for {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** fsync the file before the rename and the directory after it. Default true. */
  readonly durable?: boolean;
  /** File mode for a new file. Default 0o644. */
  readonly mode?: number;
}

/**
 * Writes `data` (a list of strings is written one after the other, never joined into one) to
 * `path` via a temporary file in the same directory and a rename, creating
 * the directory if needed. With `durable` (the default) the data is fsynced first and the
 * directory after, so the file survives a machine crash too. Throws IO on failure and leaves
 * no temporary file behind.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array | readonly string[],
  options: AtomicWriteOptions = {},
): Promise<void> {
  const durable = options.durable ?? true;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(tmp, 'w', options.mode ?? 0o644);
    try {
      // writeFile on a handle writes all of its data from the current position on, so
      // slices follow one another.
      if (typeof data === 'string' || data instanceof Uint8Array) await handle.writeFile(data);
      else for (const slice of data) await handle.writeFile(slice);
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
    if (durable) await syncDir(dir);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new ChurnError('IO', `cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
