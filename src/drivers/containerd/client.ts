/**
 * A client of containerd's native gRPC API (v1.6 protos under proto/, loaded with
 * @grpc/proto-loader for their serializers): the services the `containerd` driver uses, every
 * call carrying the `containerd-namespace` header and a deadline, over one HTTP/2 session to
 * containerd's socket (grpc-h2.ts says why not grpc-js). Failures become ChurnErrors coded by the
 * gRPC status name (NOT_FOUND, UNAVAILABLE, …) through cri/status.ts, the one place gRPC
 * statuses are converted.
 */
import { loadSync, type Options, type ServiceDefinition } from '@grpc/proto-loader';
import { ChurnError } from '../../common/errors.js';
import { codePath } from '../../common/package-files.js';
import { GrpcH2 } from '../../cri/grpc-h2.js';

/** proto-loader options: camelCase fields, int64 as strings, enums as names, defaults filled in. */
const loaderOptions: Readonly<Options> = {
  keepCase: false,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

const protoRoot = codePath('drivers/containerd/proto/api');
const serviceFiles = ['containers', 'content', 'images', 'snapshots', 'tasks', 'version'].map(
  (s) => `services/${s}/v1/${s}.proto`,
);

/** The native services the driver calls. */
export type ContainerdService =
  'containers' | 'content' | 'images' | 'snapshots' | 'tasks' | 'version';

const serviceNames: Readonly<Record<ContainerdService, string>> = {
  containers: 'Containers',
  content: 'Content',
  images: 'Images',
  snapshots: 'Snapshots',
  tasks: 'Tasks',
  version: 'Version',
};

/** A method as the client calls it. */
interface Method {
  readonly path: string;
  readonly serialize: (request: object) => Buffer;
  readonly deserialize: (bytes: Buffer) => unknown;
  readonly responseStream: boolean;
}

let cachedMethods: ReadonlyMap<string, Method> | undefined;

/** Every method of the services, by `service.Method` (the protos are loaded once). */
function methods(): ReadonlyMap<string, Method> {
  if (cachedMethods === undefined) {
    let definition: ReturnType<typeof loadSync>;
    try {
      definition = loadSync(serviceFiles, { ...loaderOptions, includeDirs: [protoRoot] });
    } catch (err) {
      throw new ChurnError('INTERNAL', `cannot load containerd's API protos from ${protoRoot}`, {
        cause: err,
      });
    }
    const out = new Map<string, Method>();
    for (const [service, name] of Object.entries(serviceNames)) {
      const methodsOf = definition[`containerd.services.${service}.v1.${name}`] as
        ServiceDefinition | undefined;
      for (const [method, d] of Object.entries(methodsOf ?? {})) {
        out.set(`${service}.${method}`, {
          path: d.path,
          serialize: d.requestSerialize,
          deserialize: d.responseDeserialize,
          responseStream: d.responseStream,
        });
      }
    }
    cachedMethods = out;
  }
  return cachedMethods;
}

/** Options of a {@link ContainerdClient}. */
export interface ContainerdClientOptions {
  /** Absolute path of containerd's unix socket. */
  readonly address: string;
  /** containerd namespace every call is made in. */
  readonly namespace: string;
  /** Deadline of each call, in milliseconds. */
  readonly callTimeoutMs: number;
}

/** Per-call options. */
export interface ContainerdCallOptions {
  readonly signal?: AbortSignal | undefined;
  /** Overrides the client's deadline (ms). */
  readonly timeoutMs?: number | undefined;
}

/** A client of containerd's native API in one namespace; see the module comment. */
export class ContainerdClient {
  readonly address: string;
  readonly namespace: string;
  private readonly connection: GrpcH2;
  private readonly callTimeoutMs: number;

  /** Creates the client (it connects lazily); USAGE for a relative address. */
  constructor(options: ContainerdClientOptions) {
    const address = options.address.replace(/^unix:\/\//, '');
    if (!address.startsWith('/')) {
      throw new ChurnError(
        'USAGE',
        `containerd address "${options.address}": give the absolute path of its unix socket`,
      );
    }
    this.address = address;
    this.namespace = options.namespace;
    this.callTimeoutMs = options.callTimeoutMs;
    this.connection = new GrpcH2(
      { kind: 'unix', socketPath: address },
      { headers: { 'containerd-namespace': options.namespace } },
    );
  }

  /** Calls unary `service.method`; rejects with a ChurnError coded by the gRPC status. */
  async call<T>(
    service: ContainerdService,
    method: string,
    request: object,
    options?: ContainerdCallOptions,
  ): Promise<T> {
    const [response] = await this.invoke(service, method, request, options, false);
    return response as T;
  }

  /** Calls server-streaming `service.method` and collects every message. */
  stream<T>(
    service: ContainerdService,
    method: string,
    request: object,
    options?: ContainerdCallOptions,
  ): Promise<T[]> {
    return this.invoke(service, method, request, options, true) as Promise<T[]>;
  }

  private async invoke(
    service: ContainerdService,
    method: string,
    request: object,
    options: ContainerdCallOptions | undefined,
    stream: boolean,
  ): Promise<unknown[]> {
    const context = (): string => `containerd ${serviceNames[service]}.${method}`;
    const m = methods().get(`${service}.${method}`);
    if (m === undefined || m.responseStream !== stream) {
      throw new ChurnError(
        'INTERNAL',
        `${context()}: no such ${stream ? 'server-streaming' : 'unary'} method`,
      );
    }
    let message: Buffer;
    try {
      message = m.serialize(request);
    } catch (err) {
      throw new ChurnError(
        'INTERNAL',
        `${context()}: request message serialization failure: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const messages = await this.connection.call({
      path: m.path,
      message,
      timeoutMs: options?.timeoutMs ?? this.callTimeoutMs,
      signal: options?.signal,
      context,
    });
    if (!stream && messages.length !== 1) {
      throw new ChurnError(
        'UNIMPLEMENTED',
        `${context()}: ${messages.length === 0 ? 'no response message' : 'too many response messages'}`,
      );
    }
    try {
      return messages.map((b) => m.deserialize(b));
    } catch (err) {
      throw new ChurnError(
        'INTERNAL',
        `${context()}: response message parsing error: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /** Closes the connection; calls in flight fail. */
  close(): void {
    this.connection.close();
  }
}
