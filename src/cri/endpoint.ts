/**
 * CRI endpoints as users write them → gRPC targets. A unix socket is the normal case
 * (`unix:///run/containerd/containerd.sock`, also `unix:/path` and a bare absolute path);
 * TCP is accepted only to a loopback address, because churn never sends traffic off the
 * machine.
 */
import { isIP } from 'node:net';
import { isAbsolute, normalize } from 'node:path';
import { ChurnError } from '../common/errors.js';

/** A parsed endpoint. */
export type CriEndpoint =
  | { readonly kind: 'unix'; readonly socketPath: string; readonly target: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly target: string };

const hint =
  'use unix:///absolute/path.sock (or unix:/path, or the bare absolute path), or tcp://127.0.0.1:PORT';

function invalid(text: string, problem: string): ChurnError {
  return new ChurnError('ENDPOINT_INVALID', `endpoint "${text}": ${problem}; ${hint}`);
}

function unixEndpoint(text: string, path: string): CriEndpoint {
  if (!isAbsolute(path)) throw invalid(text, 'the socket path must be absolute');
  const socketPath = normalize(path);
  return { kind: 'unix', socketPath, target: `unix://${socketPath}` };
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** Parses `text`; ENDPOINT_INVALID when it is malformed or names a host off this machine. */
export function parseCriEndpoint(text: string): CriEndpoint {
  const trimmed = text.trim();
  if (trimmed === '') throw invalid(text, 'it is empty');
  if (trimmed.startsWith('unix://')) return unixEndpoint(text, trimmed.slice('unix://'.length));
  if (trimmed.startsWith('unix:')) return unixEndpoint(text, trimmed.slice('unix:'.length));
  if (trimmed.startsWith('/')) return unixEndpoint(text, trimmed);

  const hostPort = trimmed.startsWith('tcp://') ? trimmed.slice('tcp://'.length) : trimmed;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(hostPort)) {
    throw invalid(text, 'unsupported scheme');
  }
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:/[\]]+)):(\d{1,5})$/.exec(hostPort);
  if (match === null) throw invalid(text, 'not a unix socket or a host:port');
  const host = (match[1] ?? match[2])!;
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) throw invalid(text, `port ${port} is out of range`);
  if (!isLoopback(host)) {
    throw invalid(text, `${host} is not a loopback address (churn never leaves this machine)`);
  }
  const target =
    isIP(host) === 6
      ? `ipv6:[${host}]:${port}`
      : `${host === 'localhost' ? '127.0.0.1' : host}:${port}`;
  return { kind: 'tcp', host, port, target };
}
