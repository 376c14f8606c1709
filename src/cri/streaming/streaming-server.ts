/**
 * The streaming server of CRI Exec, Attach and PortForward, as containerd runs the kubelet's:
 * each of those RPCs checks its request and registers it under a random single-use token,
 * valid for {@link tokenTtlMs}, and answers the URL `http://HOST:PORT/{exec,attach,portforward}/TOKEN`;
 * the client then POSTs there and upgrades the connection to SPDY/3.1 (upgrade.ts), over which
 * remote-command.ts or port-forward.ts serve it. It listens on loopback only (streams carry a
 * shell into containers and have no authentication but the token).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { isIP } from 'node:net';
import { ChurnError } from '../../common/errors.js';
import type { RuntimeApi } from '../../runtime/api.js';
import { servePortForward } from './port-forward.js';
import { serveRemoteCommand, type RemoteCommandOptions } from './remote-command.js';
import {
  acceptUpgrade,
  isSpdyUpgrade,
  negotiateProtocol,
  offeredProtocols,
  portForwardProtocols,
  refuseUpgrade,
  remoteCommandProtocols,
} from './upgrade.js';

/** How long a URL stays valid (the kubelet's streaming cache TTL). */
export const tokenTtlMs = 60_000;

/** A request registered by an RPC, waiting for its client. */
export type StreamingRequest =
  | ({
      readonly kind: 'exec';
      readonly containerId: string;
      readonly cmd: readonly string[];
    } & RemoteCommandOptions)
  | ({ readonly kind: 'attach'; readonly containerId: string } & RemoteCommandOptions)
  | { readonly kind: 'portforward'; readonly podId: string };

/** Options of {@link StreamingServer.listen}. */
export interface StreamingServerOptions {
  /** Loopback address to listen on: 127.0.0.1 (default) or ::1. */
  readonly host?: string;
  /** TCP port; 0 (default) picks a free one. */
  readonly port?: number;
  /** Hears failures inside streams (commands that could not run, ports not reached). */
  readonly onError?: (kind: StreamingRequest['kind'], err: unknown) => void;
  /** Milliseconds since an arbitrary origin; injected by tests. Default: performance.now. */
  readonly now?: () => number;
}

/** Whether `host` is a loopback address this server may listen on. */
export function isLoopbackAddress(host: string): boolean {
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

/** A running streaming server; see the module comment. */
export class StreamingServer {
  readonly #tokens = new Map<string, { request: StreamingRequest; expiresMs: number }>();
  readonly #sockets = new Set<Socket>();
  readonly #sessions = new Set<Promise<void>>();
  #closing: Promise<void> | undefined;

  private constructor(
    private readonly api: RuntimeApi,
    private readonly server: Server,
    private readonly options: StreamingServerOptions,
    /** `http://HOST:PORT`, the base of every URL it gives out. */
    readonly baseUrl: string,
  ) {}

  /** Listens on loopback; rejects with INVALID_ARGUMENT for another address, IO when it cannot bind. */
  static async listen(
    api: RuntimeApi,
    options: StreamingServerOptions = {},
  ): Promise<StreamingServer> {
    const host = options.host ?? '127.0.0.1';
    if (!isLoopbackAddress(host)) {
      throw new ChurnError(
        'INVALID_ARGUMENT',
        `streaming address ${host} is not loopback: use 127.0.0.1 (or another 127.x address) or ::1`,
      );
    }
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(
          new ChurnError('IO', `cannot listen on ${host}:${options.port ?? 0}: ${err.message}`, {
            cause: err,
          }),
        ),
      );
      server.listen({ host, port: options.port ?? 0 }, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const streaming = new StreamingServer(api, server, options, base);
    // A request that is no upgrade uses up its token too (as the kubelet's server does).
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const found = streaming.#take(req.url);
      res.writeHead(found === undefined ? 404 : 400, { 'Content-Type': 'text/plain' });
      res.end(
        found === undefined
          ? 'unknown or expired streaming URL\n'
          : 'unable to upgrade: missing upgrade headers in request (only SPDY/3.1 is served)\n',
      );
    });
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      streaming.#upgrade(req, socket, head),
    );
    server.on('connection', (socket: Socket) => {
      streaming.#sockets.add(socket);
      socket.once('close', () => streaming.#sockets.delete(socket));
    });
    return streaming;
  }

  /** Registers `request` and returns the URL its client is to use (once, within the TTL). */
  url(request: StreamingRequest): string {
    this.#prune();
    const token = randomBytes(12).toString('base64url');
    this.#tokens.set(token, { request, expiresMs: this.#now() + tokenTtlMs });
    return `${this.baseUrl}/${request.kind}/${token}`;
  }

  /** Stops listening, drops every stream and waits for their sessions to end. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const socket of this.#sockets) socket.destroy();
      await Promise.all([closed, ...this.#sessions]);
      this.#tokens.clear();
    })();
    return this.#closing;
  }

  #now(): number {
    return (this.options.now ?? (() => performance.now()))();
  }

  #prune(): void {
    const now = this.#now();
    for (const [token, entry] of this.#tokens)
      if (entry.expiresMs <= now) this.#tokens.delete(token);
  }

  /**
   * The request registered under the token of `url` (`/KIND/TOKEN`), which is used up; undefined
   * when the token is unknown, expired, used or of another kind (which leaves it unused).
   */
  #take(url: string | undefined): { request: StreamingRequest } | undefined {
    const match = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)$/.exec(
      (url ?? '').split('?')[0]!,
    );
    this.#prune();
    const entry = match === null ? undefined : this.#tokens.get(match[2]!);
    if (match === null || entry === undefined || entry.request.kind !== match[1]) return undefined;
    this.#tokens.delete(match[2]!);
    return entry;
  }

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const entry = this.#take(req.url);
    if (entry === undefined) {
      refuseUpgrade(socket, 404, 'unknown or expired streaming URL');
      return;
    }
    if (!isSpdyUpgrade(req)) {
      refuseUpgrade(
        socket,
        400,
        'unable to upgrade: missing upgrade headers in request (only SPDY/3.1 is served)',
      );
      return;
    }
    const supported =
      entry.request.kind === 'portforward' ? portForwardProtocols : remoteCommandProtocols;
    const offered = offeredProtocols(req);
    const protocol = negotiateProtocol(offered, supported);
    if (protocol === undefined) {
      refuseUpgrade(
        socket,
        403,
        `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server accepts ${JSON.stringify(supported)}`,
        { 'X-Accepted-Stream-Protocol-Versions': supported.join(', ') },
      );
      return;
    }
    acceptUpgrade(socket, protocol);
    const session = this.#serve(entry.request, socket, head, protocol).catch((err: unknown) => {
      this.options.onError?.(entry.request.kind, err);
      socket.destroy();
    });
    this.#sessions.add(session);
    void session.finally(() => this.#sessions.delete(session));
  }

  #serve(request: StreamingRequest, socket: Socket, head: Buffer, protocol: string): Promise<void> {
    const onError = (err: unknown): void => this.options.onError?.(request.kind, err);
    switch (request.kind) {
      case 'exec':
        return serveRemoteCommand(
          socket,
          head,
          protocol,
          request,
          (io) => this.api.execStream(request.containerId, request.cmd, io),
          onError,
        );
      case 'attach':
        return serveRemoteCommand(
          socket,
          head,
          protocol,
          request,
          async (io) => {
            await this.api.attach(request.containerId, io);
            return undefined;
          },
          onError,
        );
      case 'portforward':
        return servePortForward(
          socket,
          head,
          (port) => this.api.portForward(request.podId, port),
          onError,
        );
    }
  }
}
