/**
 * A typed, promise-based CRI client over one HTTP/2 session shared by RuntimeService and
 * ImageService. Every call has a deadline, can be cancelled with an AbortSignal, and fails
 * with a ChurnError whose code is the gRPC status NAME (status.ts). It never retries: a
 * retry would hide a failure from churn's numbers.
 *
 * When the runtime restarts, the next call connects afresh; calls made while it is down fail
 * fast with UNAVAILABLE (no wait-for-ready) and later calls succeed once it is back.
 *
 * Calls go through grpc-h2.ts (gRPC over one `node:http2` session), not grpc-js, with the
 * serializers proto-loader made: grpc-js's channel stack (resolver, retry, load-balancing and
 * subchannel calls, filters, metadata copies) cost about half of a unary call's client CPU
 * (docs/performance.md, "The CRI client's transport"), and churn makes seven calls a cycle.
 * grpc-h2.ts keeps what grpc-js did that matters here: the deadline, CANCELLED on abort, the
 * 16 MiB message limit both ways, keepalive pings that grpc-go servers accept, UNAVAILABLE at
 * once when the runtime is down. This module adds one response message per call and INTERNAL
 * for a message that cannot be (de)serialized.
 */
import type { requestCallback } from '@grpc/grpc-js';
import type { ServiceDefinition } from '@grpc/proto-loader';
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
import { GrpcH2 } from './grpc-h2.js';
import { criDefinition } from './proto-loader.js';

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

/** A unary method: its path and the (de)serializers proto-loader made. */
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
      deserialize: definition.responseDeserialize,
    };
  }
  return out;
}

/** A CRI client; see the module comment. */
export class CriClient {
  /** The endpoint as parsed. */
  readonly endpoint: CriEndpoint;
  private readonly connection: GrpcH2;
  private readonly runtimeMethods: Readonly<Record<RuntimeRpc, UnaryMethod>>;
  private readonly imageMethods: Readonly<Record<ImageRpc, UnaryMethod>>;
  private readonly callTimeoutMs: number;

  /** Creates the client (it connects lazily). ENDPOINT_INVALID for a bad endpoint. */
  constructor(endpoint: string, options: CriClientOptions) {
    if (!(options.callTimeoutMs > 0)) {
      throw new ChurnError('USAGE', `callTimeoutMs must be > 0, got ${options.callTimeoutMs}`);
    }
    this.endpoint = parseCriEndpoint(endpoint);
    this.callTimeoutMs = options.callTimeoutMs;
    const definition = criDefinition();
    // Every RPC name is a key of the generated definitions (checked at compile time above).
    this.runtimeMethods = unaryMethods(
      definition['runtime.v1.RuntimeService'] as ServiceDefinition,
    );
    this.imageMethods = unaryMethods(definition['runtime.v1.ImageService'] as ServiceDefinition);
    this.connection = new GrpcH2(this.endpoint, { maxMessageBytes });
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

  /** Closes the session; calls in flight fail with UNAVAILABLE. */
  close(): void {
    this.connection.close();
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
    return this.connection
      .call({
        path: method.path,
        message,
        timeoutMs: options?.timeoutMs ?? this.callTimeoutMs,
        signal,
        context,
      })
      .then((messages) => {
        // A unary call answers with exactly one message (as grpc-js judges it).
        if (messages.length !== 1) {
          throw new ChurnError(
            'UNIMPLEMENTED',
            `${context()}: ${messages.length === 0 ? 'No message received' : 'Too many responses received'}`,
          );
        }
        try {
          return method.deserialize(messages[0]!);
        } catch (err) {
          throw new ChurnError(
            'INTERNAL',
            `${context()}: Response message parsing error: ${(err as Error).message}`,
            { cause: err },
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
