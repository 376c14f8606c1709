/**
 * A typed, promise-based CRI client over one gRPC channel shared by RuntimeService and
 * ImageService. Every call has a deadline, can be cancelled with an AbortSignal, and fails
 * with a ChurnError whose code is the gRPC status NAME (status.ts). It never retries: a
 * retry would hide a failure from churn's numbers.
 *
 * When the runtime restarts, grpc-js reconnects by itself; calls made while it is down fail
 * fast with UNAVAILABLE (no wait-for-ready) and later calls succeed once it is back.
 */
import {
  Channel,
  credentials,
  type CallOptions,
  type ChannelOptions,
  type ClientUnaryCall,
  type requestCallback,
} from '@grpc/grpc-js';
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

type UnaryStarter = (
  argument: unknown,
  options: CallOptions,
  callback: requestCallback<unknown>,
) => ClientUnaryCall;

/** A CRI client; see the module comment. */
export class CriClient {
  /** The endpoint as parsed. */
  readonly endpoint: CriEndpoint;
  private readonly channel: Channel;
  private readonly runtimeClient: RuntimeServiceClient;
  private readonly imageClient: ImageServiceClient;
  private readonly callTimeoutMs: number;

  /** Creates the channel (it connects lazily). ENDPOINT_INVALID for a bad endpoint. */
  constructor(endpoint: string, options: CriClientOptions) {
    if (!(options.callTimeoutMs > 0)) {
      throw new ChurnError('USAGE', `callTimeoutMs must be > 0, got ${options.callTimeoutMs}`);
    }
    this.endpoint = parseCriEndpoint(endpoint);
    this.callTimeoutMs = options.callTimeoutMs;
    this.channel = new Channel(this.endpoint.target, credentials.createInsecure(), channelOptions);
    const pkg = criPackage();
    const shared = { channelOverride: this.channel };
    this.runtimeClient = new pkg.RuntimeService(
      this.endpoint.target,
      credentials.createInsecure(),
      shared,
    );
    this.imageClient = new pkg.ImageService(
      this.endpoint.target,
      credentials.createInsecure(),
      shared,
    );
  }

  /** Calls RuntimeService method `method`. */
  runtime<M extends RuntimeRpc>(
    method: M,
    request: RuntimeRequest<M>,
    options?: CriCallOptions,
  ): Promise<RuntimeResponse<M>> {
    const start = (this.runtimeClient[method] as unknown as UnaryStarter).bind(this.runtimeClient);
    return this.invoke(method, request, start, options) as Promise<RuntimeResponse<M>>;
  }

  /** Calls ImageService method `method`. */
  image<M extends ImageRpc>(
    method: M,
    request: ImageRequest<M>,
    options?: CriCallOptions,
  ): Promise<ImageResponse<M>> {
    const start = (this.imageClient[method] as unknown as UnaryStarter).bind(this.imageClient);
    return this.invoke(method, request, start, options) as Promise<ImageResponse<M>>;
  }

  /** Closes the channel; calls in flight fail with CANCELLED or UNAVAILABLE. */
  close(): void {
    this.runtimeClient.close();
    this.imageClient.close();
    this.channel.close();
  }

  private invoke(
    method: string,
    request: unknown,
    start: UnaryStarter,
    options: CriCallOptions | undefined,
  ): Promise<unknown> {
    // Built only on failure: a cycle makes many calls and most succeed.
    const context = (): string => `CRI ${method}${describe(request)}`;
    const signal = options?.signal;
    if (signal?.aborted === true) {
      return Promise.reject(
        new ChurnError('CANCELLED', `${context()}: cancelled before it was sent`),
      );
    }
    const timeoutMs = options?.timeoutMs ?? this.callTimeoutMs;
    return new Promise((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const call = start(request, { deadline: Date.now() + timeoutMs }, (err, response) => {
        if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
        if (err !== null) reject(fromGrpcError(err, context()));
        else resolve(response);
      });
      if (signal !== undefined) {
        onAbort = () => call.cancel();
        signal.addEventListener('abort', onAbort, { once: true });
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
