/**
 * gRPC unary (and server-streaming) calls over one `node:http2` session, without grpc-js: the
 * transport of the CRI client (client.ts) and of the containerd driver's native client.
 * Through grpc-js, even on its channel directly, a unary call passes a resolving, a retrying,
 * a load-balancing and a subchannel call, a filter stack and a metadata copy before it
 * reaches Node's HTTP/2 stream: containerd's Version cost ~1.1 ms of churn's CPU through
 * grpc-js and ~0.6 ms here (the loaded 2-core machine); docs/performance.md has the figures.
 *
 * What a call does, as gRPC over HTTP/2 specifies it: a POST of `path` with
 * `content-type: application/grpc`, `te: trailers`, `grpc-timeout` and the caller's headers;
 * the request as one length-prefixed message, uncompressed; the response's length-prefixed
 * messages; its status from `grpc-status` and `grpc-message` (trailers, or the headers of a
 * trailers-only response; a response without either is judged by its HTTP status, as grpc-js
 * does). The deadline and the abort signal cancel the stream (RST_STREAM CANCEL) and fail the
 * call DEADLINE_EXCEEDED or CANCELLED. A message either way larger than `maxMessageBytes`
 * fails RESOURCE_EXHAUSTED: a request before it is sent, a response as soon as its length
 * prefix arrives. A session that cannot connect, or closes, fails its calls UNAVAILABLE
 * at once (no wait for ready), and the next call connects afresh (the runtime restarted).
 * Nothing is retried. Failures become ChurnErrors through status.ts (`fromGrpcError`).
 *
 * The `:authority` is `localhost` on a unix socket (what grpc-js sends; grpc-go servers take
 * any) and `host:port` on TCP. Keepalive: while calls are in flight, a PING every
 * `keepaliveMs` (5 minutes) and the session is dropped when its ack does not come within 20 s;
 * no PING while idle. grpc-go servers (containerd, CRI-O) answer pings more frequent than
 * every 5 minutes, or any ping without calls, with GOAWAY `too_many_pings` under their default
 * enforcement policy.
 *
 * The session keeps the process alive only while calls are in flight.
 */
import {
  connect,
  constants,
  type ClientHttp2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { createConnection, type Socket } from 'node:net';
import { onAbort } from '../common/abort.js';
import { ChurnError } from '../common/errors.js';
import { grpcCode, grpcCodeName } from './grpc-codes.js';
import { fromGrpcError } from './status.js';

const ok: number = grpcCode.OK;

/** Where a {@link GrpcH2} connects: a unix socket or a TCP port. */
export type H2Target =
  | { readonly kind: 'unix'; readonly socketPath: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/** Options of a {@link GrpcH2}. */
export interface GrpcH2Options {
  /** Headers sent with every call (containerd's namespace header). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Largest message either way, in bytes; default 16 MiB (what containerd sends at most). */
  readonly maxMessageBytes?: number;
  /** Interval of keepalive PINGs while calls are in flight; default 5 minutes. */
  readonly keepaliveMs?: number;
  /** How long a PING's ack may take before the session is dropped; default 20 s. */
  readonly keepaliveTimeoutMs?: number;
}

/** One call of {@link GrpcH2.call}. */
export interface H2Call {
  /** `/package.Service/Method`. */
  readonly path: string;
  /** The request, serialized. */
  readonly message: Buffer;
  /** Deadline from now, in milliseconds. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** What the call is, for error messages; built only on failure. */
  readonly context: () => string;
}

/** A failed status, shaped as grpc-js's ServiceError for fromGrpcError. */
function statusError(code: number, details: string): Error {
  const name = grpcCodeName(code) ?? 'UNKNOWN';
  return Object.assign(new Error(`${code} ${name}: ${details}`), { code, details });
}

/** The status of an HTTP/2 stream reset without a gRPC status (as grpc-js maps them). */
function resetStatus(rstCode: number): number {
  switch (rstCode) {
    case constants.NGHTTP2_REFUSED_STREAM:
      return grpcCode.UNAVAILABLE;
    case constants.NGHTTP2_CANCEL:
      return grpcCode.CANCELLED;
    case constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return grpcCode.RESOURCE_EXHAUSTED;
    case constants.NGHTTP2_INADEQUATE_SECURITY:
      return grpcCode.PERMISSION_DENIED;
    default:
      return grpcCode.INTERNAL;
  }
}

/** The status of a response with an HTTP status but no gRPC status (gRPC's HTTP mapping). */
function httpStatus(status: number): number {
  switch (status) {
    case 400:
      return grpcCode.INTERNAL;
    case 401:
      return grpcCode.UNAUTHENTICATED;
    case 403:
      return grpcCode.PERMISSION_DENIED;
    case 404:
      return grpcCode.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return grpcCode.UNAVAILABLE;
    default:
      return grpcCode.UNKNOWN;
  }
}

/** `grpc-message` as sent: percent-encoded. */
function decodeMessage(value: unknown): string {
  if (typeof value !== 'string') return '';
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The length-prefixed messages of a response body; undefined when it is malformed. */
function messagesOf(chunks: readonly Buffer[]): Buffer[] | undefined {
  const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  const out: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    if (at + 5 > body.length || body[at] !== 0) return undefined;
    const length = body.readUInt32BE(at + 1);
    if (at + 5 + length > body.length) return undefined;
    out.push(body.subarray(at + 5, at + 5 + length));
    at += 5 + length;
  }
  return out;
}

/** The big-endian uint32 at `at` of the concatenation of `chunks` (it must hold 4 bytes). */
function uint32At(chunks: readonly Buffer[], at: number): number {
  let value = 0;
  let need = 4;
  let offset = at;
  for (const chunk of chunks) {
    if (offset >= chunk.length) {
      offset -= chunk.length;
      continue;
    }
    while (need > 0 && offset < chunk.length) {
      value = value * 256 + chunk[offset++]!;
      need--;
    }
    if (need === 0) break;
    offset = 0;
  }
  return value;
}

/** gRPC over one HTTP/2 session; see the module comment. */
export class GrpcH2 {
  readonly #connect: () => Socket;
  readonly #authority: string;
  readonly #headers: Readonly<OutgoingHttpHeaders>;
  readonly #maxMessageBytes: number;
  readonly #keepaliveMs: number;
  readonly #keepaliveTimeoutMs: number;
  #session: ClientHttp2Session | undefined;
  /** Calls in flight: the session holds the process only while there are some. */
  #inFlight = 0;
  #closed = false;

  constructor(target: H2Target, options: GrpcH2Options = {}) {
    if (target.kind === 'unix') {
      const path = target.socketPath;
      this.#connect = () => createConnection({ path });
      this.#authority = 'http://localhost';
    } else {
      const { host, port } = target;
      this.#connect = () => createConnection({ host, port });
      this.#authority = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    }
    this.#maxMessageBytes = options.maxMessageBytes ?? 16 * 1024 * 1024;
    this.#keepaliveMs = options.keepaliveMs ?? 300_000;
    this.#keepaliveTimeoutMs = options.keepaliveTimeoutMs ?? 20_000;
    this.#headers = {
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      [constants.HTTP2_HEADER_TE]: 'trailers',
      ...options.headers,
    };
  }

  #connected(): ClientHttp2Session {
    const live = this.#session;
    if (live !== undefined && !live.closed && !live.destroyed) return live;
    const session = connect(this.#authority, {
      createConnection: this.#connect,
      // Room for a whole message plus its frames: the session's buffered data counts.
      maxSessionMemory: Math.max(10, Math.ceil((2 * this.#maxMessageBytes) / 1e6)),
    });
    // Its streams fail with the error; the next call connects again.
    session.on('error', () => undefined);
    const keepalive = setInterval(() => this.#ping(session), this.#keepaliveMs);
    keepalive.unref();
    const forget = (): void => {
      clearInterval(keepalive);
      if (this.#session === session) this.#session = undefined;
    };
    session.once('close', forget);
    session.once('goaway', forget);
    this.#session = session;
    return session;
  }

  /** A keepalive PING, only with calls in flight; no ack in time drops the session. */
  #ping(session: ClientHttp2Session): void {
    if (this.#inFlight === 0 || session.destroyed) return;
    const timer = setTimeout(
      () => session.destroy(new Error('keepalive ping not acknowledged')),
      this.#keepaliveTimeoutMs,
    );
    timer.unref();
    try {
      const sent = session.ping((err) => {
        clearTimeout(timer);
        if (err !== null && !session.destroyed) session.destroy(err);
      });
      if (!sent) clearTimeout(timer);
    } catch {
      // A session closing under the ping (GOAWAY received): its calls end by themselves.
      clearTimeout(timer);
    }
  }

  /** Makes `call`; resolves with the response's messages, rejects with a ChurnError. */
  call(call: H2Call): Promise<Buffer[]> {
    const { signal, context } = call;
    if (signal?.aborted === true) {
      return Promise.reject(
        new ChurnError('CANCELLED', `${context()}: cancelled before it was sent`),
      );
    }
    const fail = (code: number, details: string): Promise<never> =>
      Promise.reject(fromGrpcError(statusError(code, details), context()));
    if (this.#closed) return fail(grpcCode.UNAVAILABLE, 'client closed');
    const max = this.#maxMessageBytes;
    if (call.message.length > max) {
      return fail(
        grpcCode.RESOURCE_EXHAUSTED,
        `Sent message larger than max (${call.message.length} vs. ${max})`,
      );
    }
    const session = this.#connected();
    if (this.#inFlight++ === 0) session.ref();
    return new Promise<Buffer[]>((resolve, reject) => {
      const framed = Buffer.allocUnsafe(5 + call.message.length);
      framed[0] = 0;
      framed.writeUInt32BE(call.message.length, 1);
      call.message.copy(framed, 5);
      const stream = session.request(
        {
          ...this.#headers,
          [constants.HTTP2_HEADER_PATH]: call.path,
          // At most 8 digits (gRPC's limit): ~27 hours in milliseconds.
          'grpc-timeout': `${Math.min(99_999_999, Math.max(1, Math.ceil(call.timeoutMs)))}m`,
        },
        { endStream: false },
      );
      const chunks: Buffer[] = [];
      // What ended the call: a status from the server, or one made here (deadline, abort, a
      // failed session, an oversized message).
      const state: {
        status: { code: number; details: string } | undefined;
        local: { code: number; details: string } | undefined;
        httpStatus: number | undefined;
        settled: boolean;
        /** Bytes of the body so far, and where the next message's length prefix starts. */
        received: number;
        nextPrefix: number;
      } = {
        status: undefined,
        local: undefined,
        httpStatus: undefined,
        settled: false,
        received: 0,
        nextPrefix: 0,
      };
      const statusFrom = (headers: IncomingHttpHeaders): void => {
        const http = headers[constants.HTTP2_HEADER_STATUS];
        if (http !== undefined) state.httpStatus = Number(http);
        const value = headers['grpc-status'];
        if (value === undefined) return;
        state.status = { code: Number(value), details: decodeMessage(headers['grpc-message']) };
      };
      const cancel = (code: number, details: string): void => {
        if (state.local !== undefined || state.settled) return;
        state.local = { code, details };
        stream.close(constants.NGHTTP2_CANCEL);
      };
      const timer = setTimeout(
        () => cancel(grpcCode.DEADLINE_EXCEEDED, 'Deadline exceeded'),
        call.timeoutMs,
      );
      const stopWatching =
        signal === undefined
          ? undefined
          : onAbort(signal, () => cancel(grpcCode.CANCELLED, 'Cancelled on client'));
      const finish = (code: number, details: string, messages: Buffer[]): void => {
        if (state.settled) return;
        state.settled = true;
        clearTimeout(timer);
        stopWatching?.();
        if (--this.#inFlight === 0 && !session.destroyed) session.unref();
        if (code === ok) resolve(messages);
        else reject(fromGrpcError(statusError(code, details), context()));
      };
      stream.on('response', statusFrom);
      stream.on('trailers', statusFrom);
      stream.on('data', (chunk: Buffer) => {
        if (state.local !== undefined) return;
        chunks.push(chunk);
        state.received += chunk.length;
        // Each message's length, as soon as its prefix is in.
        while (state.received >= state.nextPrefix + 5) {
          const length = uint32At(chunks, state.nextPrefix + 1);
          if (length > max) {
            cancel(
              grpcCode.RESOURCE_EXHAUSTED,
              `Received message larger than max (${length} vs. ${max})`,
            );
            return;
          }
          state.nextPrefix += 5 + length;
        }
      });
      stream.on('error', (err: Error) => {
        if (state.local === undefined && state.status === undefined) {
          // A stream the session's failure cancelled carries that failure (connect ENOENT …).
          const cause = (err as { cause?: unknown }).cause;
          const details = cause instanceof Error ? cause.message : err.message;
          state.local = { code: grpcCode.UNAVAILABLE, details };
        }
      });
      stream.on('close', () => {
        const ended = state.local ?? state.status;
        if (ended === undefined) {
          const rst = stream.rstCode;
          if (state.httpStatus !== undefined && state.httpStatus !== 200) {
            finish(
              httpStatus(state.httpStatus),
              `Received HTTP status code ${state.httpStatus}`,
              [],
            );
          } else if (session.destroyed || session.closed) {
            // The connection went (the runtime stopped or restarted) with the call in flight.
            finish(grpcCode.UNAVAILABLE, 'connection dropped', []);
          } else {
            finish(
              rst !== constants.NGHTTP2_NO_ERROR ? resetStatus(rst) : grpcCode.UNKNOWN,
              `stream closed without a status (HTTP/2 code ${rst})`,
              [],
            );
          }
        } else if (ended.code !== ok) {
          finish(ended.code, ended.details, []);
        } else {
          const messages = messagesOf(chunks);
          if (messages === undefined) {
            finish(grpcCode.INTERNAL, 'malformed response message framing', []);
          } else {
            finish(ok, '', messages);
          }
        }
      });
      stream.end(framed);
    });
  }

  /** Closes the session; calls in flight fail. */
  close(): void {
    this.#closed = true;
    this.#session?.destroy();
    this.#session = undefined;
  }
}
