/**
 * The /metrics HTTP endpoint Prometheus scrapes: `GET /metrics` answers the exposition text of
 * churn's registry; `/` a one-line pointer; anything else 404. Binds 127.0.0.1 unless told
 * otherwise (a harness should not expose itself by default). Port 0 picks a free port: read
 * {@link MetricsServer.url}.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChurnError } from '../common/errors.js';

/** What the server serves: the exporter (or anything with the same two members). */
export interface MetricsSource {
  /** The exposition text. */
  metrics(): Promise<string>;
  /** Its content type. */
  readonly contentType: string;
}

/** Options of {@link MetricsServer.listen}. */
export interface MetricsServerOptions {
  readonly source: MetricsSource;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** 0 for any free port. */
  readonly port: number;
}

/** A listening /metrics server. */
export class MetricsServer {
  readonly #server: Server;
  /** The bound host and port. */
  readonly host: string;
  readonly port: number;

  private constructor(server: Server, host: string, port: number) {
    this.#server = server;
    this.host = host;
    this.port = port;
  }

  /** `http://host:port/metrics` (IPv6 hosts in brackets). */
  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${host}:${this.port}/metrics`;
  }

  /**
   * Listens. USAGE when the address cannot be bound (in use, not local, not permitted), with
   * the address in the message.
   */
  static async listen(options: MetricsServerOptions): Promise<MetricsServer> {
    const host = options.host ?? '127.0.0.1';
    const { source } = options;
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('use GET\n');
        return;
      }
      if (path === '/metrics') {
        source.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': source.contentType });
            res.end(req.method === 'HEAD' ? undefined : text);
          },
          (err: unknown) => {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(`cannot collect metrics: ${String(err)}\n`);
          },
        );
        return;
      }
      if (path === '/') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('churn: metrics at /metrics\n');
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(
          new ChurnError(
            'USAGE',
            `cannot serve metrics on ${host}:${options.port}: ${err.code ?? err.message}${err.code === 'EADDRINUSE' ? ' (the port is in use: choose another --metrics-port, or 0 for any free one)' : ''}`,
            { cause: err },
          ),
        );
      };
      server.once('error', onError);
      server.listen(options.port, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    return new MetricsServer(server, address.address, address.port);
  }

  /** Stops listening and closes every connection, idle or not. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}
