/**
 * Rewrites the `:authority` of every request a client sends on an HTTP/2 connection, frame by
 * frame, so Node's HTTP/2 layer accepts requests it would otherwise refuse.
 *
 * Why: for a unix socket endpoint, grpc-go (kubelet, crictl, critest) sends the socket *path*
 * as `:authority` ("/run/x.sock"), grpc C-core a percent-encoded path. nghttp2 (under Node's
 * HTTP/2 server) checks the authority's characters and resets such a stream with
 * PROTOCOL_ERROR before grpc-js sees the call. A gRPC server has no use for the authority of a
 * unix socket connection, so the rewriter replaces it.
 *
 * How: the client's bytes are parsed as HTTP/2 frames (RFC 9113 §4). Frames other than
 * HEADERS/CONTINUATION pass through unchanged, streamed as they arrive. A header block
 * (HEADERS plus any CONTINUATIONs) is decoded with this connection's HPACK decoder (RFC 7541;
 * the client's encoder state is mirrored exactly, since every block is decoded in order) and
 * re-encoded as literals *without indexing*, so the server's decoder table stays empty and
 * never disagrees with the client's. Padding is dropped; priority is kept.
 *
 * Malformed input (a bad preface, a header block that is interrupted or does not decode) is a
 * connection error: {@link push} throws {@link Http2ConnectionError}, and the caller answers
 * with {@link goawayFrame} and closes, as an HTTP/2 server does.
 */
import hpack, { type HpackDecompressor } from 'hpack.js';

/** The client connection preface (RFC 9113 §3.4). */
export const clientPreface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

const frameHeaderBytes = 9;
const typeHeaders = 0x1;
const typeContinuation = 0x9;
const typeSettings = 0x4;
const flagEndHeaders = 0x4;
const flagPadded = 0x8;
const flagPriority = 0x20;
/** The server's SETTINGS_HEADER_TABLE_SIZE (Node's default, never changed by grpc-js). */
const decoderTableBytes = 4096;
/** Largest frame payload the rewriter emits: the default SETTINGS_MAX_FRAME_SIZE. */
const maxOutFramePayload = 16_384;
/** Largest header frame or header block accepted: far above what nghttp2 itself accepts. */
const maxHeaderBytes = 1 << 20;

/** HTTP/2 error codes used here (RFC 9113 §7). */
export const http2ErrorCodes = { PROTOCOL_ERROR: 0x1, COMPRESSION_ERROR: 0x9 } as const;

/** A connection error found in the client's bytes: answer with GOAWAY(`code`) and close. */
export class Http2ConnectionError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
    this.name = 'Http2ConnectionError';
  }
}

/** An empty SETTINGS frame: a server preface that leaves every setting at its default. */
export const emptySettingsFrame = Buffer.from([0, 0, 0, typeSettings, 0, 0, 0, 0, 0]);

/** A GOAWAY frame (last stream 0) with `code`, to send before closing on a connection error. */
export function goawayFrame(code: number): Buffer {
  const frame = Buffer.alloc(frameHeaderBytes + 8);
  frame.writeUIntBE(8, 0, 3);
  frame[3] = 0x7;
  frame.writeUInt32BE(code, frameHeaderBytes + 4);
  return frame;
}

interface PendingBlock {
  readonly streamId: number;
  /** END_STREAM of the HEADERS frame (the only flag kept besides PRIORITY). */
  readonly endStream: boolean;
  /** The 5 priority bytes, when the HEADERS frame had PRIORITY. */
  readonly priority: Buffer | null;
  readonly fragments: Buffer[];
  size: number;
}

/** See the module comment. One instance per connection; feed it the client's bytes in order. */
export class AuthorityRewriter {
  private readonly decoder: HpackDecompressor = hpack.decompressor.create({
    table: { size: decoderTableBytes },
  });
  private decodeError: Error | null = null;
  private buffered: Buffer = Buffer.alloc(0);
  private prefaceChecked = false;
  /** Bytes of the current pass-through frame still to forward. */
  private passLeft = 0;
  private block: PendingBlock | null = null;
  private first: string | null | undefined;
  private ackToDrop: boolean;
  private mirror: Buffer[] | null = [];

  /**
   * @param authority the `:authority` every request gets.
   * @param dropSettingsAck drop the client's first SETTINGS ACK: it acknowledges a SETTINGS
   *   frame the caller sent itself, which the server behind must not see.
   */
  constructor(
    private readonly authority = 'localhost',
    dropSettingsAck = false,
  ) {
    this.ackToDrop = dropSettingsAck;
    (this.decoder as unknown as NodeJS.EventEmitter).on('error', (err: Error) => {
      this.decodeError = err;
    });
  }

  /**
   * The `:authority` of the first request as the client sent it: undefined until its header
   * block has been read, null when it had none.
   */
  get firstAuthority(): string | null | undefined {
    return this.first;
  }

  /** Whether the SETTINGS ACK to drop (see the constructor) has been seen and dropped. */
  get settingsAckDropped(): boolean {
    return !this.ackToDrop;
  }

  /**
   * The client's bytes as they came, minus the dropped SETTINGS ACK: what to hand to the
   * server instead of the rewritten bytes, when the caller decides no rewrite is needed.
   * Collected until {@link stopMirror}.
   */
  get original(): readonly Buffer[] {
    return this.mirror ?? [];
  }

  /** Bytes received but not yet handed out (an incomplete frame). */
  get leftover(): Buffer {
    return this.buffered;
  }

  /** Stops collecting {@link original}. */
  stopMirror(): void {
    this.mirror = null;
  }

  /** Feeds the client's next bytes; returns the bytes to hand to the server, in order. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    if (!this.prefaceChecked) {
      const n = Math.min(this.buffered.length, clientPreface.length);
      if (!this.buffered.subarray(0, n).equals(clientPreface.subarray(0, n))) {
        throw new Http2ConnectionError(
          'not an HTTP/2 connection preface',
          http2ErrorCodes.PROTOCOL_ERROR,
        );
      }
      if (n < clientPreface.length) return out;
      out.push(clientPreface);
      this.mirror?.push(clientPreface);
      this.buffered = this.buffered.subarray(clientPreface.length);
      this.prefaceChecked = true;
    }
    for (;;) {
      if (this.passLeft > 0) {
        if (this.buffered.length === 0) break;
        const n = Math.min(this.passLeft, this.buffered.length);
        out.push(this.buffered.subarray(0, n));
        this.mirror?.push(this.buffered.subarray(0, n));
        this.buffered = this.buffered.subarray(n);
        this.passLeft -= n;
        continue;
      }
      if (this.buffered.length < frameHeaderBytes) break;
      const length = this.buffered.readUIntBE(0, 3);
      const type = this.buffered[3]!;
      if (type !== typeHeaders && type !== typeContinuation) {
        if (this.block !== null) {
          throw new Http2ConnectionError(
            `frame of type ${type} inside a header block`,
            http2ErrorCodes.PROTOCOL_ERROR,
          );
        }
        const header = this.buffered.subarray(0, frameHeaderBytes);
        this.buffered = this.buffered.subarray(frameHeaderBytes);
        if (this.ackToDrop && type === typeSettings && (header[4]! & 0x1) !== 0 && length === 0) {
          this.ackToDrop = false;
          continue;
        }
        out.push(header);
        this.mirror?.push(header);
        this.passLeft = length;
        continue;
      }
      if (length > maxHeaderBytes) {
        throw new Http2ConnectionError(
          `header frame of ${length} bytes`,
          http2ErrorCodes.PROTOCOL_ERROR,
        );
      }
      if (this.buffered.length < frameHeaderBytes + length) break;
      const flags = this.buffered[4]!;
      const streamId = this.buffered.readUInt32BE(5) & 0x7fff_ffff;
      this.mirror?.push(this.buffered.subarray(0, frameHeaderBytes + length));
      const payload = this.buffered.subarray(frameHeaderBytes, frameHeaderBytes + length);
      this.buffered = this.buffered.subarray(frameHeaderBytes + length);
      const done =
        type === typeHeaders
          ? this.startBlock(streamId, flags, payload)
          : this.continueBlock(streamId, flags, payload);
      if (done) out.push(...this.finishBlock());
    }
    return out;
  }

  private startBlock(streamId: number, flags: number, payload: Buffer): boolean {
    if (this.block !== null || streamId === 0) {
      throw new Http2ConnectionError('unexpected HEADERS frame', http2ErrorCodes.PROTOCOL_ERROR);
    }
    let start = 0;
    let end = payload.length;
    if ((flags & flagPadded) !== 0) {
      if (payload.length < 1) {
        throw new Http2ConnectionError('padded HEADERS too short', http2ErrorCodes.PROTOCOL_ERROR);
      }
      end -= payload[0]!;
      start = 1;
    }
    let priority: Buffer | null = null;
    if ((flags & flagPriority) !== 0) {
      priority = Buffer.from(payload.subarray(start, start + 5));
      start += 5;
    }
    if (end < start) {
      throw new Http2ConnectionError('HEADERS padding too long', http2ErrorCodes.PROTOCOL_ERROR);
    }
    const fragment = payload.subarray(start, end);
    this.block = {
      streamId,
      endStream: (flags & 0x1) !== 0,
      priority,
      fragments: [fragment],
      size: fragment.length,
    };
    return (flags & flagEndHeaders) !== 0;
  }

  private continueBlock(streamId: number, flags: number, payload: Buffer): boolean {
    const block = this.block;
    if (block === null || block.streamId !== streamId) {
      throw new Http2ConnectionError('unexpected CONTINUATION', http2ErrorCodes.PROTOCOL_ERROR);
    }
    block.fragments.push(payload);
    block.size += payload.length;
    if (block.size > maxHeaderBytes) {
      throw new Http2ConnectionError(
        `header block over ${maxHeaderBytes} bytes`,
        http2ErrorCodes.PROTOCOL_ERROR,
      );
    }
    return (flags & flagEndHeaders) !== 0;
  }

  private finishBlock(): Buffer[] {
    const block = this.block!;
    this.block = null;
    const fields = this.decode(Buffer.concat(block.fragments, block.size));
    const authority = fields.find((f) => f.name === ':authority');
    if (this.first === undefined) this.first = authority?.value ?? null;
    const rewritten = fields.map((f) =>
      f.name === ':authority' ? { name: f.name, value: this.authority } : f,
    );
    return headerFrames(block, encodeLiterals(rewritten));
  }

  private decode(block: Buffer): { name: string; value: string }[] {
    this.decoder.write(block);
    this.decoder.execute();
    if (this.decodeError !== null) {
      throw new Http2ConnectionError(
        `header block does not decode: ${this.decodeError.message}`,
        http2ErrorCodes.COMPRESSION_ERROR,
      );
    }
    const fields: { name: string; value: string }[] = [];
    for (let f = this.decoder.read(); f !== null; f = this.decoder.read()) {
      fields.push({ name: f.name, value: f.value });
    }
    return fields;
  }
}

/** HPACK integer with an `prefixBits`-bit prefix (RFC 7541 §5.1), first byte's high bits 0. */
function encodeInteger(value: number, prefixBits: number, out: number[]): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(value);
    return;
  }
  out.push(max);
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}

/**
 * Encodes `fields` as "literal header field without indexing — new name" representations
 * (RFC 7541 §6.2.2) with raw (not Huffman) strings: decodable by any HPACK decoder with no
 * change to its dynamic table. Strings hold bytes as latin1 characters (as decoded).
 */
export function encodeLiterals(fields: readonly { name: string; value: string }[]): Buffer {
  const parts: Buffer[] = [];
  for (const { name, value } of fields) {
    const nameBytes = Buffer.from(name, 'latin1');
    const valueBytes = Buffer.from(value, 'latin1');
    const head: number[] = [0x00];
    encodeInteger(nameBytes.length, 7, head);
    const mid: number[] = [];
    encodeInteger(valueBytes.length, 7, mid);
    parts.push(Buffer.from(head), nameBytes, Buffer.from(mid), valueBytes);
  }
  return Buffer.concat(parts);
}

function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const h = Buffer.alloc(frameHeaderBytes);
  h.writeUIntBE(length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return h;
}

/** The HEADERS frame (and CONTINUATIONs) carrying `encoded` for `block`'s stream. */
function headerFrames(block: PendingBlock, encoded: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  const priorityBytes = block.priority?.length ?? 0;
  const firstRoom = maxOutFramePayload - priorityBytes;
  const first = encoded.subarray(0, firstRoom);
  let rest = encoded.subarray(first.length);
  let flags = (block.endStream ? 0x1 : 0) | (block.priority !== null ? flagPriority : 0);
  if (rest.length === 0) flags |= flagEndHeaders;
  frames.push(frameHeader(priorityBytes + first.length, typeHeaders, flags, block.streamId));
  if (block.priority !== null) frames.push(block.priority);
  frames.push(first);
  while (rest.length > 0) {
    const part = rest.subarray(0, maxOutFramePayload);
    rest = rest.subarray(part.length);
    const end = rest.length === 0 ? flagEndHeaders : 0;
    frames.push(frameHeader(part.length, typeContinuation, end, block.streamId), part);
  }
  return frames;
}
