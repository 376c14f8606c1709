/**
 * The server side of a SPDY/3.1 session over an upgraded HTTP connection, as the Kubernetes
 * streaming protocols use it: the client opens every stream (SYN_STREAM, odd ids); the server
 * accepts (SYN_REPLY) or refuses (RST_STREAM) each; both send data and half-close with FIN.
 * PINGs are echoed; SETTINGS and WINDOW_UPDATE are read and ignored (the Go client, moby's
 * spdystream, does no flow control either). Frames are handled one at a time in arrival order,
 * and sent in the order they were queued, because the header blocks of each direction share
 * one zlib stream.
 */
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import {
  encodeData,
  encodeGoAway,
  encodePing,
  encodeRstStream,
  encodeSynReply,
  FrameParser,
  maxDataPayloadBytes,
  RstStatus,
  type Frame,
} from './spdy-frame.js';
import { HeaderCompressor, HeaderDecompressor } from './spdy-header-block.js';

/** One stream of a session: a Duplex whose readable side is what the client sends. */
export class SpdyStream extends Duplex {
  /** Set once the client sent FIN (or the stream was reset). */
  #remoteEnded = false;

  constructor(
    private readonly session: SpdySession,
    /** The stream id the client chose. */
    readonly id: number,
    /** The headers of its SYN_STREAM (names lower case). */
    readonly headers: ReadonlyMap<string, readonly string[]>,
  ) {
    super({ allowHalfOpen: true });
  }

  /** The first value of header `name`, or '' when absent. */
  header(name: string): string {
    return this.headers.get(name)?.[0] ?? '';
  }

  /** @internal data from the client. */
  receive(data: Buffer, fin: boolean): void {
    if (this.#remoteEnded) return;
    if (data.length > 0) this.push(data);
    if (fin) {
      this.#remoteEnded = true;
      this.push(null);
    }
  }

  /** @internal the client reset the stream or the session ended. */
  abort(): void {
    if (!this.#remoteEnded) {
      this.#remoteEnded = true;
      this.push(null);
    }
    this.destroy();
  }

  override _read(): void {
    // Data is pushed as frames arrive; there is no flow control to open.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error) => void): void {
    this.session.sendData(this.id, chunk, false, callback);
  }

  override _final(callback: (err?: Error) => void): void {
    this.session.sendData(this.id, Buffer.alloc(0), true, callback);
  }
}

/** Decides on a stream the client opened: true accepts it, false refuses it (RST_STREAM). */
export type StreamHandler = (stream: SpdyStream) => boolean;

/** A server-side session; see the module comment. */
export class SpdySession {
  readonly #socket: Socket;
  readonly #parser = new FrameParser();
  readonly #inflater = new HeaderDecompressor();
  readonly #deflater = new HeaderCompressor();
  readonly #streams = new Map<number, SpdyStream>();
  /** Frames in, handled in order. */
  #incoming: Promise<void> = Promise.resolve();
  /** Frames out, written in order (a SYN_REPLY's header block is compressed asynchronously). */
  #outgoing: Promise<void> = Promise.resolve();
  #lastStreamId = 0;
  #closed = false;
  readonly #onStream: StreamHandler;
  /** Resolves once the connection is gone. */
  readonly closed: Promise<void>;

  constructor(socket: Socket, head: Buffer, onStream: StreamHandler) {
    this.#socket = socket;
    this.#onStream = onStream;
    socket.setNoDelay(true);
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#teardown();
        resolve();
      });
    });
    socket.on('error', () => socket.destroy());
    // The HTTP server's sockets allow half-open connections; a SPDY session has none: the
    // client's end is the session's.
    socket.once('end', () => socket.end());
    socket.on('data', (chunk: Buffer) => this.#feed(chunk));
    if (head.length > 0) this.#feed(head);
  }

  /** @internal queues data (split into frames) on stream `id`; `callback` once written. */
  sendData(id: number, data: Buffer, fin: boolean, callback: (err?: Error) => void): void {
    this.#enqueue(() => {
      const frames: Buffer[] = [];
      for (let at = 0; at < data.length; at += maxDataPayloadBytes) {
        const end = Math.min(data.length, at + maxDataPayloadBytes);
        frames.push(encodeData(id, data.subarray(at, end), fin && end === data.length));
      }
      if (frames.length === 0) frames.push(encodeData(id, data, fin));
      return Promise.resolve(Buffer.concat(frames));
    }, callback);
  }

  /**
   * Ends the session: GOAWAY after everything queued, then the connection is closed once the
   * client closes it or after `graceMs`.
   */
  async close(graceMs = 1000): Promise<void> {
    if (this.#closed) return;
    await new Promise<void>((resolve) =>
      this.#enqueue(
        () => Promise.resolve(encodeGoAway(this.#lastStreamId)),
        () => resolve(),
      ),
    );
    this.#socket.end();
    const timer = setTimeout(() => this.#socket.destroy(), graceMs);
    await this.closed;
    clearTimeout(timer);
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.#socket.destroy();
  }

  #enqueue(frame: () => Promise<Buffer>, callback: (err?: Error) => void): void {
    this.#outgoing = this.#outgoing.then(async () => {
      if (this.#closed || this.#socket.destroyed) {
        callback(new Error('SPDY session closed'));
        return;
      }
      let bytes: Buffer;
      try {
        bytes = await frame();
      } catch (err) {
        callback(err as Error);
        return;
      }
      await new Promise<void>((resolve) => {
        this.#socket.write(bytes, (err) => {
          callback(err ?? undefined);
          resolve();
        });
      });
    });
  }

  #feed(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.#parser.push(chunk);
    } catch {
      this.#socket.destroy();
      return;
    }
    for (const frame of frames) {
      this.#incoming = this.#incoming.then(() =>
        this.#handle(frame).catch(() => {
          this.#socket.destroy();
        }),
      );
    }
  }

  async #handle(frame: Frame): Promise<void> {
    switch (frame.kind) {
      case 'synStream': {
        const headers = await this.#inflater.decompress(frame.headerBlock);
        if (frame.streamId <= this.#lastStreamId || frame.streamId % 2 === 0) {
          this.#enqueue(
            () => Promise.resolve(encodeRstStream(frame.streamId, RstStatus.protocolError)),
            noop,
          );
          return;
        }
        this.#lastStreamId = frame.streamId;
        const stream = new SpdyStream(this, frame.streamId, headers);
        // Writes the handler makes at once wait behind the SYN_REPLY.
        stream.cork();
        if (!this.#onStream(stream)) {
          this.#enqueue(
            () => Promise.resolve(encodeRstStream(frame.streamId, RstStatus.refusedStream)),
            noop,
          );
          stream.destroy();
          return;
        }
        this.#streams.set(frame.streamId, stream);
        stream.once('close', () => this.#streams.delete(frame.streamId));
        this.#enqueue(async () => {
          const block = await this.#deflater.compress(new Map());
          return encodeSynReply(frame.streamId, block, false);
        }, noop);
        stream.uncork();
        if (frame.fin) stream.receive(Buffer.alloc(0), true);
        return;
      }
      case 'headers':
      case 'synReply':
        // Keep the shared zlib stream in step even though the headers are not used.
        await this.#inflater.decompress(frame.headerBlock);
        if (frame.fin) this.#streams.get(frame.streamId)?.receive(Buffer.alloc(0), true);
        return;
      case 'data':
        this.#streams.get(frame.streamId)?.receive(frame.data, frame.fin);
        return;
      case 'rstStream':
        this.#streams.get(frame.streamId)?.abort();
        return;
      case 'ping':
        this.#enqueue(() => Promise.resolve(encodePing(frame.id)), noop);
        return;
      case 'goAway':
        this.#socket.end();
        return;
      default:
        return;
    }
  }

  #teardown(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const stream of this.#streams.values()) stream.abort();
    this.#streams.clear();
    this.#inflater.close();
    this.#deflater.close();
  }
}

function noop(): void {
  // Nothing waits for this frame.
}
