/**
 * SPDY/3 header blocks: name/value pairs (a 32-bit count, then 32-bit length-prefixed names
 * and values, several values of one name joined by NUL), compressed with zlib and the SPDY
 * dictionary. Each direction of a session keeps ONE zlib stream for all its header blocks,
 * flushed (Z_SYNC_FLUSH) at the end of each block, so a block can only be read by the
 * {@link HeaderDecompressor} that read every earlier block of that direction.
 */
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';
import { ChurnError } from '../../common/errors.js';
import { spdyHeaderDictionary } from './spdy-dictionary.js';

/** Header names (lower case) and their values. */
export type SpdyHeaders = ReadonlyMap<string, readonly string[]>;

/** Serializes `headers` (names lower-cased) into an uncompressed header block. */
export function serializeHeaders(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  count.writeUInt32BE(headers.size, 0);
  parts.push(count);
  for (const [name, values] of headers) {
    for (const field of [name.toLowerCase(), values.join('\0')]) {
      const bytes = Buffer.from(field, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(bytes.length, 0);
      parts.push(len, bytes);
    }
  }
  return Buffer.concat(parts);
}

/** Parses an uncompressed header block; throws INVALID_ARGUMENT when it is malformed. */
export function parseHeaders(block: Buffer): Map<string, string[]> {
  const bad = (): ChurnError => new ChurnError('INVALID_ARGUMENT', 'SPDY: malformed header block');
  let at = 0;
  const u32 = (): number => {
    if (at + 4 > block.length) throw bad();
    const v = block.readUInt32BE(at);
    at += 4;
    return v;
  };
  const str = (): string => {
    const len = u32();
    if (at + len > block.length) throw bad();
    const s = block.toString('utf8', at, at + len);
    at += len;
    return s;
  };
  const headers = new Map<string, string[]>();
  const n = u32();
  for (let i = 0; i < n; i++) {
    const name = str().toLowerCase();
    const values = str().split('\0');
    headers.set(name, [...(headers.get(name) ?? []), ...values]);
  }
  return headers;
}

/** Runs `chunk` through a zlib stream and collects what one sync flush gives out. */
function flushThrough(z: Deflate | Inflate, chunk: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const onData = (b: Buffer): void => {
      out.push(b);
    };
    const onError = (err: Error): void => {
      z.off('data', onData);
      reject(
        new ChurnError('INVALID_ARGUMENT', `SPDY: header block: ${err.message}`, { cause: err }),
      );
    };
    z.on('data', onData);
    z.once('error', onError);
    z.write(chunk);
    z.flush(constants.Z_SYNC_FLUSH, () => {
      z.off('data', onData);
      z.off('error', onError);
      resolve(Buffer.concat(out));
    });
  });
}

/**
 * Compresses one direction's header blocks. Calls must not overlap (await each): the blocks
 * share one zlib stream.
 */
export class HeaderCompressor {
  readonly #deflate = createDeflate({ dictionary: spdyHeaderDictionary });

  /** The compressed block of `headers`. */
  compress(headers: SpdyHeaders): Promise<Buffer> {
    return flushThrough(this.#deflate, serializeHeaders(headers));
  }

  close(): void {
    this.#deflate.destroy();
  }
}

/** Decompresses one direction's header blocks, in the order they came; calls must not overlap. */
export class HeaderDecompressor {
  readonly #inflate = createInflate({ dictionary: spdyHeaderDictionary });

  /** The headers of a compressed `block`; rejects with INVALID_ARGUMENT when it is malformed. */
  async decompress(block: Buffer): Promise<Map<string, string[]>> {
    return parseHeaders(await flushThrough(this.#inflate, block));
  }

  close(): void {
    this.#inflate.destroy();
  }
}
