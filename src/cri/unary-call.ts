/**
 * A unary gRPC call made on a channel directly (`Channel.createCall`, grpc-js's public channel
 * interface) with the serializers proto-loader made, not through a generated `Client`: the
 * Client layer (argument checks, an interceptor chain of none, an EventEmitter per call, a
 * captured caller stack) costs about a fifth of a unary call's client CPU, and a cycle makes
 * seven to nine calls. What it did that matters is done here: one response message, a status per
 * call, CANCELLED on abort, INTERNAL for a message that cannot be (de)serialized. Shared by the
 * CRI client and the native containerd client; failures become ChurnErrors through status.ts.
 */
import {
  Metadata,
  status as GrpcStatus,
  type Channel,
  type ChannelOptions,
  type InterceptingListener,
  type ServiceDefinition,
  type StatusObject,
} from '@grpc/grpc-js';
import { onAbort } from '../common/abort.js';
import { ChurnError } from '../common/errors.js';
import { fromGrpcError } from './status.js';

/** Message size limit both ways: 16 MiB, what containerd sends at most. */
const maxMessageBytes = 16 * 1024 * 1024;

/**
 * Channel options of churn's clients. Keepalive pings only while calls are in flight and no more
 * often than every 5 minutes: grpc-go servers (containerd) answer more frequent pings with
 * GOAWAY "too_many_pings" under their default enforcement policy. Reconnect backoff is capped
 * at 1 s so a restarted runtime is found again quickly; a socket connect is cheap. Retries are
 * off: churn counts every failure.
 */
export const channelOptions: Readonly<ChannelOptions> = {
  'grpc.keepalive_time_ms': 300_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.keepalive_permit_without_calls': 0,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
  'grpc.max_receive_message_length': maxMessageBytes,
  'grpc.max_send_message_length': maxMessageBytes,
  'grpc.enable_retries': 0,
  // churn exposes no channelz service; its per-call bookkeeping is pure cost.
  'grpc.enable_channelz': 0,
};

/** A unary method as the channel takes it. */
export interface UnaryMethod {
  readonly path: string;
  readonly serialize: (request: unknown) => Buffer;
  readonly deserialize: (bytes: Buffer) => unknown;
}

/** The methods of `service` by name (only its unary ones may be given to {@link unaryCall}). */
export function unaryMethods(service: ServiceDefinition): Readonly<Record<string, UnaryMethod>> {
  const out: Record<string, UnaryMethod> = {};
  for (const [name, definition] of Object.entries(service)) {
    out[name] = {
      path: definition.path,
      serialize: definition.requestSerialize as (request: unknown) => Buffer,
      deserialize: definition.responseDeserialize as (bytes: Buffer) => unknown,
    };
  }
  return out;
}

/**
 * `details` as a user should read them. grpc-js words a failed connection as `No connection
 * established. Last error: Error: connect ENOENT /x.sock. Resolution note: `, the note empty
 * for a unix socket: the empty note and the repeated `Error:` go, the runtime's own details
 * (a server's message) are left as they are.
 */
export function readableDetails(details: string): string {
  return details
    .replace(/\.?\s*Resolution note:\s*$/, '')
    .replace(/^(No connection established\. Last error: )Error: /, '$1');
}

/** The error a failed status becomes, shaped as grpc-js's ServiceError for fromGrpcError. */
function statusError(status: StatusObject): Error {
  const details = readableDetails(status.details);
  const error = new Error(`${status.code} ${GrpcStatus[status.code]}: ${details}`);
  return Object.assign(error, { code: status.code, details, metadata: status.metadata });
}

const noop = (): void => undefined;

/** One call of {@link unaryCall}. */
export interface UnaryCall {
  readonly channel: Channel;
  readonly method: UnaryMethod;
  readonly request: unknown;
  /** Sent as the call's headers (grpc-js copies it: one object may serve every call). */
  readonly metadata: Metadata;
  /** Deadline from now, in milliseconds. */
  readonly timeoutMs: number;
  /** Aborting it cancels the call (CANCELLED). */
  readonly signal?: AbortSignal | undefined;
  /** What the call is, for error messages (`CRI StartContainer "id"`); built only on failure. */
  readonly context: () => string;
}

/** Makes `call`; resolves with the decoded response, rejects with a ChurnError. */
export function unaryCall(call: UnaryCall): Promise<unknown> {
  const { signal, method, context } = call;
  if (signal?.aborted === true) {
    return Promise.reject(
      new ChurnError('CANCELLED', `${context()}: cancelled before it was sent`),
    );
  }
  let message: Buffer;
  try {
    message = method.serialize(call.request);
  } catch (err) {
    return Promise.reject(
      new ChurnError(
        'INTERNAL',
        `${context()}: request message serialization failure: ${(err as Error).message}`,
        { cause: err },
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const stream = call.channel.createCall(
      method.path,
      Date.now() + call.timeoutMs,
      undefined,
      null,
      undefined,
    );
    let stopWatching = noop;
    let response: unknown;
    let received = false;
    let failure: StatusObject | undefined;
    let settled = false;
    const listener: InterceptingListener = {
      onReceiveMetadata: noop,
      onReceiveMessage: (bytes: Buffer) => {
        if (received) {
          stream.cancelWithStatus(GrpcStatus.UNIMPLEMENTED, 'Too many responses received');
          return;
        }
        received = true;
        try {
          response = method.deserialize(bytes);
        } catch (err) {
          const details = `Response message parsing error: ${(err as Error).message}`;
          failure = { code: GrpcStatus.INTERNAL, details, metadata: new Metadata() };
          stream.cancelWithStatus(GrpcStatus.INTERNAL, details);
        }
      },
      onReceiveStatus: (status: StatusObject) => {
        if (settled) return;
        settled = true;
        stopWatching();
        let final = failure ?? status;
        if (final.code === GrpcStatus.OK && !received) {
          final = {
            code: GrpcStatus.UNIMPLEMENTED,
            details: 'No message received',
            metadata: status.metadata,
          };
        }
        if (final.code === GrpcStatus.OK) resolve(response);
        else reject(fromGrpcError(statusError(final), context()));
      },
    };
    stream.start(call.metadata, listener);
    stream.startRead();
    stream.sendMessageWithContext({}, message);
    stream.halfClose();
    if (signal !== undefined) {
      stopWatching = onAbort(signal, () =>
        stream.cancelWithStatus(GrpcStatus.CANCELLED, 'Cancelled on client'),
      );
    }
  });
}
