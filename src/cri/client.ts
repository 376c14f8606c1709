/**
 * A typed, promise-based CRI client over one gRPC channel shared by RuntimeService and
 * ImageService. Every call has a deadline, can be cancelled with an AbortSignal, and fails
 * with a ChurnError whose code is the gRPC status NAME (status.ts). It never retries: a
 * retry would hide a failure from churn's numbers.
 *
 * When the runtime restarts, grpc-js reconnects by itself; calls made while it is down fail
 * fast with UNAVAILABLE (no wait-for-ready) and later calls succeed once it is back.
 *
 * Calls go to the channel directly (`Channel.createCall`, grpc-js's public channel interface)
 * with the serializers proto-loader made, not through a generated `Client`: the Client layer
 * (argument checks, an interceptor chain of none, an EventEmitter per call, a captured caller
 * stack) costs about a fifth of a unary call's client CPU, and churn makes seven calls a cycle.
 * What it did that matters is done here: one response message, a status per call, CANCELLED on
 * abort, INTERNAL for a message that cannot be (de)serialized.
 */
import {
  Channel,
  credentials,
  Metadata,
  status as GrpcStatus,
  type ChannelOptions,
  type InterceptingListener,
  type ServiceDefinition,
  type StatusObject,
  type requestCallback,
} from '@grpc/grpc-js';
import { onAbort } from '../common/abort.js';
import { ChurnError } from '../common/errors.js';
import { parseCriEndpoint, type CriEndpoint } from './endpoint.js';
import type {
  ImageServiceClient,
  ImageServiceDefinition,
} from './generated/runtime/v1/ImageService.js';
import type {
  RuntimeServiceClient,
  RuntimeServiceDefinition,
} from './generated/runtime/v1/RuntimeService.js';
import { criPackage } from './proto-loader.js';
import { fromGrpcError } from './status.js';

/** Names of the RuntimeService RPCs (those of proto/api.proto). */
export type RuntimeRpc =
  | 'Version'
  | 'Status'
  | 'RunPodSandbox'
  | 'StopPodSandbox'
  | 'RemovePodSandbox'
  | 'PodSandboxStatus'
  | 'ListPodSandbox'
  | 'CreateContainer'
  | 'StartContainer'
  | 'StopContainer'
  | 'RemoveContainer'
  | 'ListContainers'
  | 'ContainerStatus'
  | 'ReopenContainerLog'
  | 'ExecSync'
  | 'ContainerStats'
  | 'ListContainerStats';
/** Names of the ImageService RPCs. */
export type ImageRpc = 'ListImages' | 'ImageStatus' | 'PullImage' | 'RemoveImage' | 'ImageFsInfo';

// Compile-time check that the lists above match the generated service definitions.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type KnownKeys<T> = keyof { [K in keyof T as string extends K ? never : K]: T[K] };
const _runtimeRpcsMatch: Same<RuntimeRpc, KnownKeys<RuntimeServiceDefinition>> = true;
const _imageRpcsMatch: Same<ImageRpc, KnownKeys<ImageServiceDefinition>> = true;

/** Request type of a generated unary method (from its `(argument, callback)` overload). */
type RequestOf<F> = F extends (argument: infer R, callback: requestCallback<infer _S>) => unknown
  ? R
  : never;
/** Decoded response type of a generated unary method. */
type ResponseOf<F> = F extends (argument: infer _R, callback: requestCallback<infer S>) => unknown
  ? S
  : never;

/** Request of RuntimeService method `M`. */
export type RuntimeRequest<M extends RuntimeRpc> = RequestOf<RuntimeServiceClient[M]>;
/** Decoded response of RuntimeService method `M`. */
export type RuntimeResponse<M extends RuntimeRpc> = ResponseOf<RuntimeServiceClient[M]>;
/** Request of ImageService method `M`. */
export type ImageRequest<M extends ImageRpc> = RequestOf<ImageServiceClient[M]>;
/** Decoded response of ImageService method `M`. */
export type ImageResponse<M extends ImageRpc> = ResponseOf<ImageServiceClient[M]>;

/** Options of a {@link CriClient}. */
export interface CriClientOptions {
  /** Deadline of each call unless the call says otherwise, in milliseconds. */
  readonly callTimeoutMs: number;
}

/** Per-call options. */
export interface CriCallOptions {
  /** Aborting it cancels the call (CANCELLED). */
  readonly signal?: AbortSignal | undefined;
  /** This call's deadline in milliseconds, instead of the client's callTimeoutMs. */
  readonly timeoutMs?: number | undefined;
}

/** Message size limit both ways: 16 MiB, what containerd sends at most. */
const maxMessageBytes = 16 * 1024 * 1024;

/**
 * Channel options. Keepalive pings only while calls are in flight and no more often than
 * every 5 minutes: grpc-go servers (containerd) answer more frequent pings with GOAWAY
 * "too_many_pings" under their default enforcement policy. Reconnect backoff is capped at 1 s
 * so a restarted runtime is found again quickly; a socket connect is cheap. Retries are off:
 * churn counts every failure.
 */
const channelOptions: ChannelOptions = {
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
interface UnaryMethod {
  readonly path: string;
  readonly serialize: (request: unknown) => Buffer;
  readonly deserialize: (bytes: Buffer) => unknown;
}

/** The methods of `service` (all unary in churn's CRI subset) by name. */
function unaryMethods(service: ServiceDefinition): Readonly<Record<string, UnaryMethod>> {
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

/** A CRI client; see the module comment. */
export class CriClient {
  /** The endpoint as parsed. */
  readonly endpoint: CriEndpoint;
  private readonly channel: Channel;
  private readonly runtimeMethods: Readonly<Record<RuntimeRpc, UnaryMethod>>;
  private readonly imageMethods: Readonly<Record<ImageRpc, UnaryMethod>>;
  private readonly callTimeoutMs: number;

  /** Creates the channel (it connects lazily). ENDPOINT_INVALID for a bad endpoint. */
  constructor(endpoint: string, options: CriClientOptions) {
    if (!(options.callTimeoutMs > 0)) {
      throw new ChurnError('USAGE', `callTimeoutMs must be > 0, got ${options.callTimeoutMs}`);
    }
    this.endpoint = parseCriEndpoint(endpoint);
    this.callTimeoutMs = options.callTimeoutMs;
    const pkg = criPackage();
    // Every RPC name is a key of the generated definitions (checked at compile time above).
    this.runtimeMethods = unaryMethods(pkg.RuntimeService.service);
    this.imageMethods = unaryMethods(pkg.ImageService.service);
    this.channel = new Channel(this.endpoint.target, credentials.createInsecure(), channelOptions);
  }

  /** Calls RuntimeService method `method`. */
  runtime<M extends RuntimeRpc>(
    method: M,
    request: RuntimeRequest<M>,
    options?: CriCallOptions,
  ): Promise<RuntimeResponse<M>> {
    return this.invoke(method, this.runtimeMethods[method], request, options) as Promise<
      RuntimeResponse<M>
    >;
  }

  /** Calls ImageService method `method`. */
  image<M extends ImageRpc>(
    method: M,
    request: ImageRequest<M>,
    options?: CriCallOptions,
  ): Promise<ImageResponse<M>> {
    return this.invoke(method, this.imageMethods[method], request, options) as Promise<
      ImageResponse<M>
    >;
  }

  /** Closes the channel; calls in flight fail with CANCELLED or UNAVAILABLE. */
  close(): void {
    this.channel.close();
  }

  private invoke(
    name: string,
    method: UnaryMethod,
    request: unknown,
    options: CriCallOptions | undefined,
  ): Promise<unknown> {
    // Built only on failure: a cycle makes many calls and most succeed.
    const context = (): string => `CRI ${name}${describe(request)}`;
    const signal = options?.signal;
    if (signal?.aborted === true) {
      return Promise.reject(
        new ChurnError('CANCELLED', `${context()}: cancelled before it was sent`),
      );
    }
    let message: Buffer;
    try {
      message = method.serialize(request);
    } catch (err) {
      return Promise.reject(
        new ChurnError(
          'INTERNAL',
          `${context()}: request message serialization failure: ${(err as Error).message}`,
          { cause: err },
        ),
      );
    }
    const timeoutMs = options?.timeoutMs ?? this.callTimeoutMs;
    return new Promise((resolve, reject) => {
      const call = this.channel.createCall(
        method.path,
        Date.now() + timeoutMs,
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
            call.cancelWithStatus(GrpcStatus.UNIMPLEMENTED, 'Too many responses received');
            return;
          }
          received = true;
          try {
            response = method.deserialize(bytes);
          } catch (err) {
            const details = `Response message parsing error: ${(err as Error).message}`;
            failure = { code: GrpcStatus.INTERNAL, details, metadata: new Metadata() };
            call.cancelWithStatus(GrpcStatus.INTERNAL, details);
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
      call.start(new Metadata(), listener);
      call.startRead();
      call.sendMessageWithContext({}, message);
      call.halfClose();
      if (signal !== undefined) {
        stopWatching = onAbort(signal, () =>
          call.cancelWithStatus(GrpcStatus.CANCELLED, 'Cancelled on client'),
        );
      }
    });
  }
}

/** ` "id"` of the object a request is about, for error messages. */
function describe(request: unknown): string {
  if (typeof request !== 'object' || request === null) return '';
  const r = request as { containerId?: unknown; podSandboxId?: unknown; image?: unknown };
  const id = r.containerId ?? r.podSandboxId ?? (r.image as { image?: unknown } | null)?.image;
  return typeof id === 'string' && id !== '' ? ` "${id}"` : '';
}
