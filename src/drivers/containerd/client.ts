/**
 * A client of containerd's native gRPC API (v1.6 protos under proto/, loaded with
 * @grpc/proto-loader as src/cri/proto-loader.ts loads CRI): one channel, the services the
 * `containerd` driver uses, every call carrying the `containerd-namespace` metadata header and a
 * deadline. Unary calls go to the channel directly, as the CRI client's do (cri/unary-call.ts,
 * with the same channel options); server streams (only a run's start reads them) go through
 * proto-loader's generated clients. Failures become ChurnErrors coded by the gRPC status name (NOT_FOUND, UNAVAILABLE, …)
 * through cri/status.ts, the one place gRPC statuses are converted.
 */
import {
  Channel,
  credentials,
  loadPackageDefinition,
  Metadata,
  type GrpcObject,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { ChurnError } from '../../common/errors.js';
import { fromGrpcError } from '../../cri/status.js';
import { channelOptions, unaryCall, unaryMethods, type UnaryMethod } from '../../cri/unary-call.js';

/** proto-loader options: camelCase fields, int64 as strings, enums as names, defaults filled in. */
const loaderOptions: Readonly<Options> = {
  keepCase: false,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

const protoRoot = fileURLToPath(new URL('./proto/api', import.meta.url));
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

let cachedPackage: GrpcObject | undefined;

function servicesPackage(): GrpcObject {
  if (cachedPackage === undefined) {
    try {
      const definition = loadSync(serviceFiles, { ...loaderOptions, includeDirs: [protoRoot] });
      cachedPackage = loadPackageDefinition(definition);
    } catch (err) {
      throw new ChurnError('INTERNAL', `cannot load containerd's API protos from ${protoRoot}`, {
        cause: err,
      });
    }
  }
  return cachedPackage;
}

function serviceConstructor(service: ContainerdService): ServiceClientConstructor {
  const containerd = servicesPackage()['containerd'] as GrpcObject;
  const services = containerd['services'] as GrpcObject;
  const v1 = (services[service] as GrpcObject)['v1'] as GrpcObject;
  return v1[serviceNames[service]] as ServiceClientConstructor;
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

interface StreamCall {
  on(event: 'data', listener: (chunk: unknown) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  on(event: 'end', listener: () => void): void;
  cancel(): void;
}
type StreamFn = (request: unknown, metadata: Metadata, options: { deadline: Date }) => StreamCall;

/** A client of containerd's native API in one namespace; see the module comment. */
export class ContainerdClient {
  readonly address: string;
  readonly namespace: string;
  private readonly channel: Channel;
  private readonly clients = new Map<ContainerdService, Record<string, unknown>>();
  private readonly methods = new Map<ContainerdService, Readonly<Record<string, UnaryMethod>>>();
  private readonly callTimeoutMs: number;
  /** The headers of every call (grpc-js copies them per call). */
  private readonly metadata = new Metadata();

  /** Creates the channel (it connects lazily); USAGE for a relative address. */
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
    this.metadata.set('containerd-namespace', options.namespace);
    this.channel = new Channel(`unix:${address}`, credentials.createInsecure(), channelOptions);
  }

  private client(service: ContainerdService): Record<string, unknown> {
    let client = this.clients.get(service);
    if (client === undefined) {
      const Ctor = serviceConstructor(service);
      const channel = this.channel;
      client = new Ctor(`unix:${this.address}`, credentials.createInsecure(), {
        channelOverride: channel,
      });
      this.clients.set(service, client);
    }
    return client;
  }

  private unary(service: ContainerdService, method: string): UnaryMethod {
    let methods = this.methods.get(service);
    if (methods === undefined) {
      methods = unaryMethods(serviceConstructor(service).service);
      this.methods.set(service, methods);
    }
    const found = methods[method];
    if (found === undefined) {
      throw new ChurnError('INTERNAL', `containerd ${serviceNames[service]} has no ${method}`);
    }
    return found;
  }

  /** Calls unary `service.method`; rejects with a ChurnError coded by the gRPC status. */
  call<T>(
    service: ContainerdService,
    method: string,
    request: object,
    options?: ContainerdCallOptions,
  ): Promise<T> {
    return unaryCall({
      channel: this.channel,
      method: this.unary(service, method),
      request,
      metadata: this.metadata,
      timeoutMs: options?.timeoutMs ?? this.callTimeoutMs,
      signal: options?.signal,
      context: () => `containerd ${serviceNames[service]}.${method}`,
    }) as Promise<T>;
  }

  /** Calls server-streaming `service.method` and collects every message. */
  stream<T>(
    service: ContainerdService,
    method: string,
    request: object,
    options?: ContainerdCallOptions,
  ): Promise<T[]> {
    const context = `containerd ${serviceNames[service]}.${method}`;
    const client = this.client(service);
    const fn = client[method] as StreamFn;
    const deadline = new Date(Date.now() + (options?.timeoutMs ?? this.callTimeoutMs));
    return new Promise<T[]>((resolve, reject) => {
      const out: T[] = [];
      const call = fn.call(client, request, this.metadata.clone(), { deadline });
      const onAbort = (): void => call.cancel();
      options?.signal?.addEventListener('abort', onAbort, { once: true });
      call.on('data', (chunk) => out.push(chunk as T));
      call.on('error', (err) => {
        options?.signal?.removeEventListener('abort', onAbort);
        reject(fromGrpcError(err, context));
      });
      call.on('end', () => {
        options?.signal?.removeEventListener('abort', onAbort);
        resolve(out);
      });
    });
  }

  /** Closes the channel. */
  close(): void {
    // The clients share this channel: closing it once ends them all.
    this.clients.clear();
    this.channel.close();
  }
}
