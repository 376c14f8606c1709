/**
 * SPDY/3.1 framing (draft 3.1, section 2.2), pure: {@link FrameParser} turns bytes into frames
 * and the `encode*` functions frames into bytes. Header blocks stay compressed here
 * (spdy-header-block.ts owns their zlib context). Only what a Kubernetes streaming server
 * needs: SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE
 * and data frames.
 *
 *     control: |1| version (15) | type (16) | flags (8) | length (24) | payload
 *     data:    |0| stream id (31)           | flags (8) | length (24) | payload
 */
import { ChurnError } from '../../common/errors.js';

/** The SPDY version this speaks. */
export const spdyVersion = 3;

/** Control frame types. */
export const FrameType = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goAway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

/** FLAG_FIN: the sender's last frame on the stream. */
export const flagFin = 0x01;

/** RST_STREAM status codes used here. */
export const RstStatus = { protocolError: 1, refusedStream: 3, cancel: 5 } as const;

/** Largest payload of one frame (24-bit length); data is split to stay well below. */
export const maxDataPayloadBytes = 0x3fff;

/** A parsed frame. */
export type Frame =
  | {
      readonly kind: 'data';
      readonly streamId: number;
      readonly fin: boolean;
      readonly data: Buffer;
    }
  | {
      readonly kind: 'synStream';
      readonly streamId: number;
      readonly associatedId: number;
      readonly fin: boolean;
      readonly headerBlock: Buffer;
    }
  | {
      readonly kind: 'synReply' | 'headers';
      readonly streamId: number;
      readonly fin: boolean;
      readonly headerBlock: Buffer;
    }
  | { readonly kind: 'rstStream'; readonly streamId: number; readonly status: number }
  | { readonly kind: 'ping'; readonly id: number }
  | { readonly kind: 'goAway'; readonly lastGoodStreamId: number; readonly status: number }
  | { readonly kind: 'windowUpdate'; readonly streamId: number; readonly delta: number }
  | { readonly kind: 'settings' }
  | { readonly kind: 'unknown'; readonly type: number };

const headerBytes = 8;

function protocolError(message: string): ChurnError {
  return new ChurnError('INVALID_ARGUMENT', `SPDY: ${message}`);
}

/** Splits a byte stream into frames; feed it chunks as they arrive. */
export class FrameParser {
  #buffer: Buffer = Buffer.alloc(0);

  /** The frames completed by `chunk`; throws INVALID_ARGUMENT on a malformed frame. */
  push(chunk: Buffer): Frame[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const frames: Frame[] = [];
    while (this.#buffer.length >= headerBytes) {
      const length = this.#buffer.readUInt32BE(4) & 0xffffff;
      if (this.#buffer.length < headerBytes + length) break;
      const head = this.#buffer.subarray(0, headerBytes);
      const payload = this.#buffer.subarray(headerBytes, headerBytes + length);
      this.#buffer = this.#buffer.subarray(headerBytes + length);
      frames.push(parseFrame(head, Buffer.from(payload)));
    }
    return frames;
  }
}

function parseFrame(head: Buffer, payload: Buffer): Frame {
  const first = head.readUInt32BE(0);
  const flags = head[4]!;
  if ((first & 0x80000000) === 0) {
    return {
      kind: 'data',
      streamId: first & 0x7fffffff,
      fin: (flags & flagFin) !== 0,
      data: payload,
    };
  }
  const version = (first >>> 16) & 0x7fff;
  const type = first & 0xffff;
  if (version !== spdyVersion) throw protocolError(`unsupported version ${version}`);
  const need = (n: number): void => {
    if (payload.length < n) throw protocolError(`control frame type ${type} too short`);
  };
  const fin = (flags & flagFin) !== 0;
  switch (type) {
    case FrameType.synStream:
      need(10);
      return {
        kind: 'synStream',
        streamId: payload.readUInt32BE(0) & 0x7fffffff,
        associatedId: payload.readUInt32BE(4) & 0x7fffffff,
        fin,
        headerBlock: payload.subarray(10),
      };
    case FrameType.synReply:
    case FrameType.headers:
      need(4);
      return {
        kind: type === FrameType.synReply ? 'synReply' : 'headers',
        streamId: payload.readUInt32BE(0) & 0x7fffffff,
        fin,
        headerBlock: payload.subarray(4),
      };
    case FrameType.rstStream:
      need(8);
      return {
        kind: 'rstStream',
        streamId: payload.readUInt32BE(0) & 0x7fffffff,
        status: payload.readUInt32BE(4),
      };
    case FrameType.ping:
      need(4);
      return { kind: 'ping', id: payload.readUInt32BE(0) };
    case FrameType.goAway:
      need(8);
      return {
        kind: 'goAway',
        lastGoodStreamId: payload.readUInt32BE(0) & 0x7fffffff,
        status: payload.readUInt32BE(4),
      };
    case FrameType.windowUpdate:
      need(8);
      return {
        kind: 'windowUpdate',
        streamId: payload.readUInt32BE(0) & 0x7fffffff,
        delta: payload.readUInt32BE(4) & 0x7fffffff,
      };
    case FrameType.settings:
      return { kind: 'settings' };
    default:
      return { kind: 'unknown', type };
  }
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > 0xffffff) throw protocolError('control frame too large');
  const head = Buffer.alloc(headerBytes);
  head.writeUInt32BE((0x80000000 | (spdyVersion << 16) | type) >>> 0, 0);
  head.writeUInt32BE(((flags << 24) | payload.length) >>> 0, 4);
  return Buffer.concat([head, payload]);
}

/** A data frame; `data` must not exceed 0xffffff bytes. */
export function encodeData(streamId: number, data: Buffer, fin: boolean): Buffer {
  if (data.length > 0xffffff) throw protocolError('data frame too large');
  const head = Buffer.alloc(headerBytes);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE((((fin ? flagFin : 0) << 24) | data.length) >>> 0, 4);
  return Buffer.concat([head, data]);
}

/** A SYN_STREAM with an already compressed header block (priority 0, slot 0). */
export function encodeSynStream(
  streamId: number,
  headerBlock: Buffer,
  fin: boolean,
  associatedId = 0,
): Buffer {
  const ids = Buffer.alloc(10);
  ids.writeUInt32BE(streamId & 0x7fffffff, 0);
  ids.writeUInt32BE(associatedId & 0x7fffffff, 4);
  return controlFrame(FrameType.synStream, fin ? flagFin : 0, Buffer.concat([ids, headerBlock]));
}

/** A SYN_REPLY with an already compressed header block. */
export function encodeSynReply(streamId: number, headerBlock: Buffer, fin: boolean): Buffer {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(streamId & 0x7fffffff, 0);
  return controlFrame(FrameType.synReply, fin ? flagFin : 0, Buffer.concat([id, headerBlock]));
}

/** A RST_STREAM. */
export function encodeRstStream(streamId: number, status: number): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(streamId & 0x7fffffff, 0);
  payload.writeUInt32BE(status, 4);
  return controlFrame(FrameType.rstStream, 0, payload);
}

/** A PING (a reply echoes the peer's id). */
export function encodePing(id: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(id >>> 0, 0);
  return controlFrame(FrameType.ping, 0, payload);
}

/** A GOAWAY with status OK. */
export function encodeGoAway(lastGoodStreamId: number): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(lastGoodStreamId & 0x7fffffff, 0);
  return controlFrame(FrameType.goAway, 0, payload);
}
