/**
 * A typed, promise-based CRI client over one gRPC channel shared by RuntimeService and
 * ImageService. Every call has a deadline, can be cancelled with an AbortSignal, and fails
 * with a ChurnError whose code is the gRPC status NAME (status.ts). It never retries: a
 * retry would hide a failure from churn's numbers.
 *
 * When the runtime restarts, grpc-js reconnects by itself; calls made while it is down fail
 * fast with UNAVAILABLE (no wait-for-ready) and later calls succeed once it is back.
 *
 * Calls go to the channel directly (unary-call.ts).
 */
import { Channel, credentials, Metadata, type requestCallback } from '@grpc/grpc-js';
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
import { channelOptions, unaryCall, unaryMethods, type UnaryMethod } from './unary-call.js';

export { readableDetails } from './unary-call.js';

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
    return unaryCall({
      channel: this.channel,
      method,
      request,
      metadata: noMetadata,
      timeoutMs: options?.timeoutMs ?? this.callTimeoutMs,
      signal: options?.signal,
      // Built only on failure: a cycle makes many calls and most succeed.
      context: () => `CRI ${name}${describe(request)}`,
    });
  }
}

/** The headers of every CRI call: none (grpc-js copies them per call). */
const noMetadata = new Metadata();

/** ` "id"` of the object a request is about, for error messages. */
function describe(request: unknown): string {
  if (typeof request !== 'object' || request === null) return '';
  const r = request as { containerId?: unknown; podSandboxId?: unknown; image?: unknown };
  const id = r.containerId ?? r.podSandboxId ?? (r.image as { image?: unknown } | null)?.image;
  return typeof id === 'string' && id !== '' ? ` "${id}"` : '';
}
