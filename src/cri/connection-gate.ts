/**
 * Hands each accepted connection of the CRI socket to the gRPC server, in the form Node's
 * HTTP/2 layer accepts (see authority-rewriter.ts for why some clients need a rewrite).
 *
 * The gate reads the connection's first bytes up to the end of the first request's header
 * block. When its `:authority` is a plain host name (grpc-js sends `localhost`), the bytes are
 * put back and the socket itself is handed over: churn's own driver pays nothing. Otherwise
 * (grpc-go sends the socket path, grpc C-core a percent-encoded path) the connection is handed
 * over through a {@link RewritingStream} that rewrites every request's `:authority`.
 */
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import {
  AuthorityRewriter,
  emptySettingsFrame,
  goawayFrame,
  Http2ConnectionError,
} from './authority-rewriter.js';

/** An authority Node's HTTP/2 layer accepts as it is: a host name or address, maybe a port. */
const plainAuthority = /^[A-Za-z0-9.-]+(:\d+)?$/;

/** Bytes read before the first header block ends beyond which the gate stops looking. */
const maxPeekBytes = 256 * 1024;

/**
 * The client's side of `socket` with every request's `:authority` rewritten; writes go to the
 * socket unchanged. `initial` are rewritten bytes already produced from data read earlier.
 */
export class RewritingStream extends Duplex {
  constructor(
    private readonly socket: Socket,
    private readonly rewriter: AuthorityRewriter,
    initial: readonly Buffer[],
  ) {
    super({ allowHalfOpen: false });
    for (const b of initial) this.push(b);
    socket.on('data', (chunk: Buffer) => {
      let out: Buffer[];
      try {
        out = rewriter.push(chunk);
      } catch (err) {
        refuse(socket, err);
        this.destroy();
        return;
      }
      let more = true;
      for (const b of out) more = this.push(b) && more;
      if (!more) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error) => void): void {
    this.socket.write(chunk, (err) => callback(err ?? undefined));
  }

  override _final(callback: (err?: Error) => void): void {
    this.socket.end(() => callback());
  }

  override _destroy(err: Error | null, callback: (err: Error | null) => void): void {
    this.socket.destroy();
    callback(err);
  }
}

/** Answers a connection error with GOAWAY and closes. */
function refuse(socket: Socket, err: unknown): void {
  if (err instanceof Http2ConnectionError) socket.end(goawayFrame(err.code));
  else socket.destroy();
}

/** How long the gate waits for the first request before handing a connection over rewritten. */
export const peekWaitMs = 1000;

/** How a connection was handed over (for tests and stats). */
export type GateMode = 'native' | 'rewritten';

/**
 * Reads the first request of `socket` and hands the connection to `inject` (see the module
 * comment). Every gRPC client waits for the server's SETTINGS before its first request, so the
 * gate sends an empty SETTINGS frame at once and removes the client's ACK of it. The socket
 * goes over natively only when that ACK came before the first request (so it can be taken out
 * of the bytes put back) and the request's authority is plain; any other case, and a client
 * silent for {@link peekWaitMs}, goes over rewritten (which also drops the ACK). Connections
 * not yet handed over are in `pending`, so the owner can destroy them on close.
 */
export function gateConnection(
  socket: Socket,
  inject: (connection: Duplex, mode: GateMode) => void,
  pending: Set<Socket>,
): void {
  const rewriter = new AuthorityRewriter('localhost', true);
  let rawBytes = 0;
  const rewritten: Buffer[] = [];
  pending.add(socket);
  const handOver = (mode: GateMode): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', onClose);
    pending.delete(socket);
    socket.pause();
    if (mode === 'native') {
      const bytes = Buffer.concat([...rewriter.original, rewriter.leftover]);
      if (bytes.length > 0) socket.unshift(bytes);
      inject(socket, mode);
    } else {
      rewriter.stopMirror();
      inject(new RewritingStream(socket, rewriter, rewritten), mode);
    }
  };
  const onClose = (): void => {
    clearTimeout(timer);
    pending.delete(socket);
  };
  const onData = (chunk: Buffer): void => {
    rawBytes += chunk.length;
    try {
      rewritten.push(...rewriter.push(chunk));
    } catch (err) {
      clearTimeout(timer);
      pending.delete(socket);
      socket.off('data', onData);
      refuse(socket, err);
      return;
    }
    const first = rewriter.firstAuthority;
    if (first === undefined) {
      if (rawBytes >= maxPeekBytes) handOver('rewritten');
      return;
    }
    const plain = first === null || plainAuthority.test(first);
    handOver(plain && rewriter.settingsAckDropped ? 'native' : 'rewritten');
  };
  const timer = setTimeout(() => handOver('rewritten'), peekWaitMs);
  socket.on('data', onData);
  socket.on('close', onClose);
  socket.on('error', () => socket.destroy());
  socket.write(emptySettingsFrame);
}
