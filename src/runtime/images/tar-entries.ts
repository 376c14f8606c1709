/** Reading a tar stream entry by entry, with the source's errors surfaced to the reader. */
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract, type Header } from 'tar-stream';

/** One tar entry as {@link forEachTarEntry} hands it over: its header, and its content. */
export interface TarEntry extends AsyncIterable<Buffer> {
  readonly header: Header;
  /** Discards the rest of the content. */
  resume(): unknown;
}

/**
 * Calls `onEntry` for each entry of the tar read from `source` (through `transforms`, e.g. a
 * gunzip), one at a time; content `onEntry` leaves unread is skipped. Rejects with the first
 * error of the source, a transform, the tar parser or `onEntry`.
 */
export async function forEachTarEntry(
  source: Readable,
  transforms: readonly Transform[],
  onEntry: (entry: TarEntry) => Promise<void>,
): Promise<void> {
  const extract = tarExtract();
  const stop = new AbortController();
  // tar-stream's streams are streamx streams: fed by hand, with backpressure.
  const run = pipeline as unknown as (
    streams: readonly unknown[],
    options: { signal: AbortSignal },
  ) => Promise<void>;
  const feeding = run(
    [
      source,
      ...transforms,
      async (input: AsyncIterable<Buffer>) => {
        for await (const chunk of input) {
          if (!extract.write(chunk)) await once(extract, 'drain', { signal: stop.signal });
        }
        (extract as unknown as { end(): void }).end();
      },
    ],
    { signal: stop.signal },
  ).then(
    () => undefined,
    (err: unknown) => {
      if (!stop.signal.aborted) extract.destroy(err as Error);
      return err;
    },
  );
  try {
    for await (const entry of extract) {
      const tarEntry = entry as unknown as TarEntry;
      try {
        await onEntry(tarEntry);
      } finally {
        tarEntry.resume();
      }
    }
  } catch (err) {
    const feedErr = await Promise.race([feeding, Promise.resolve(undefined)]);
    stop.abort();
    await feeding;
    throw (feedErr ?? err) as Error;
  }
  const feedErr = await feeding;
  if (feedErr !== undefined) throw feedErr as Error;
}

/** Writes the content of `entry` to a new file `path`, calling `onChunk` with each chunk. */
export async function copyEntryToFile(
  entry: TarEntry,
  path: string,
  mode: number,
  onChunk?: (chunk: Buffer) => void,
): Promise<void> {
  const handle = await open(path, 'wx', mode);
  try {
    for await (const chunk of entry) {
      onChunk?.(chunk);
      await handle.write(chunk);
    }
  } finally {
    await handle.close();
  }
}
