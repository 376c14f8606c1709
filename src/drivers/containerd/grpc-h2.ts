/**
 * gRPC calls to a unix socket over one `node:http2` session, without grpc-js: the containerd
 * driver's calls. Through grpc-js, even on its channel directly (as cri/client.ts calls it), a
 * unary call passes a resolving, a retrying, a load-balancing and a subchannel call, a filter
 * stack and a metadata copy before it reaches Node's HTTP/2 stream: containerd's Version cost
 * ~1.1 ms of churn's CPU through grpc-js and ~0.6 ms here (the loaded 2-core machine), and a
 * cycle makes eight or nine calls.
 *
 * What a call does, as gRPC over HTTP/2 specifies it: a POST of `path` with
 * `content-type: application/grpc`, `te: trailers`, `grpc-timeout` and the caller's headers;
 * the request as one length-prefixed message, uncompressed; the response's length-prefixed
 * messages; its status from `grpc-status` and `grpc-message` (trailers, or the headers of a
 * trailers-only response). The deadline and the abort signal cancel the stream (RST_STREAM
 * CANCEL) and fail the call DEADLINE_EXCEEDED or CANCELLED; a session that cannot connect, or
 * closes, fails its calls UNAVAILABLE, and the next call connects afresh (containerd restarted).
 * Failures become ChurnErrors through cri/status.ts (`fromGrpcError`), as grpc-js's do.
 *
 * The session keeps the process alive only while calls are in flight.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  connect,
  constants,
  type ClientHttp2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { createConnection } from 'node:net';
import { onAbort } from '../../common/abort.js';
import { ChurnError } from '../../common/errors.js';
import { fromGrpcError } from '../../cri/status.js';

const ok: number = GrpcStatus.OK;

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
  const name = (GrpcStatus as unknown as Record<number, string | undefined>)[code] ?? 'UNKNOWN';
  return Object.assign(new Error(`${code} ${name}: ${details}`), { code, details });
}

/** The status of an HTTP/2 stream reset without a gRPC status (as grpc-js maps them). */
function resetStatus(rstCode: number): number {
  switch (rstCode) {
    case constants.NGHTTP2_REFUSED_STREAM:
      return GrpcStatus.UNAVAILABLE;
    case constants.NGHTTP2_CANCEL:
      return GrpcStatus.CANCELLED;
    case constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case constants.NGHTTP2_INADEQUATE_SECURITY:
      return GrpcStatus.PERMISSION_DENIED;
    default:
      return GrpcStatus.INTERNAL;
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

/** gRPC over one HTTP/2 session to a unix socket; see the module comment. */
export class GrpcH2 {
  readonly #socketPath: string;
  readonly #headers: Readonly<OutgoingHttpHeaders>;
  #session: ClientHttp2Session | undefined;
  /** Calls in flight: the session holds the process only while there are some. */
  #inFlight = 0;
  #closed = false;

  /** `headers` go with every call (containerd's namespace header). */
  constructor(socketPath: string, headers: Readonly<Record<string, string>>) {
    this.#socketPath = socketPath;
    this.#headers = {
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      [constants.HTTP2_HEADER_TE]: 'trailers',
      ...headers,
    };
  }

  #connected(): ClientHttp2Session {
    const live = this.#session;
    if (live !== undefined && !live.closed && !live.destroyed) return live;
    const session = connect('http://localhost', {
      createConnection: () => createConnection(this.#socketPath),
    });
    // Its streams fail with the error; the next call connects again.
    session.on('error', () => undefined);
    const forget = (): void => {
      if (this.#session === session) this.#session = undefined;
    };
    session.once('close', forget);
    session.once('goaway', forget);
    this.#session = session;
    return session;
  }

  /** Makes `call`; resolves with the response's messages, rejects with a ChurnError. */
  call(call: H2Call): Promise<Buffer[]> {
    const { signal, context } = call;
    if (signal?.aborted === true) {
      return Promise.reject(
        new ChurnError('CANCELLED', `${context()}: cancelled before it was sent`),
      );
    }
    if (this.#closed) {
      return Promise.reject(
        fromGrpcError(statusError(GrpcStatus.UNAVAILABLE, 'client closed'), context()),
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
      // failed session).
      const state: {
        status: { code: number; details: string } | undefined;
        local: { code: number; details: string } | undefined;
        settled: boolean;
      } = { status: undefined, local: undefined, settled: false };
      const statusFrom = (headers: IncomingHttpHeaders): void => {
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
        () => cancel(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded'),
        call.timeoutMs,
      );
      const stopWatching =
        signal === undefined
          ? undefined
          : onAbort(signal, () => cancel(GrpcStatus.CANCELLED, 'Cancelled on client'));
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
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err: Error) => {
        if (state.local === undefined && state.status === undefined) {
          // A stream the session's failure cancelled carries that failure (connect ENOENT …).
          const cause = (err as { cause?: unknown }).cause;
          const details = cause instanceof Error ? cause.message : err.message;
          state.local = { code: GrpcStatus.UNAVAILABLE, details };
        }
      });
      stream.on('close', () => {
        const ended = state.local ?? state.status;
        if (ended === undefined) {
          const rst = stream.rstCode;
          finish(
            rst !== constants.NGHTTP2_NO_ERROR ? resetStatus(rst) : GrpcStatus.UNKNOWN,
            `stream closed without a status (HTTP/2 code ${rst})`,
            [],
          );
        } else if (ended.code !== ok) {
          finish(ended.code, ended.details, []);
        } else {
          const messages = messagesOf(chunks);
          if (messages === undefined) {
            finish(GrpcStatus.INTERNAL, 'malformed response message framing', []);
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
