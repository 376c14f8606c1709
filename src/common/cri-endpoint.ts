/**
 * CRI endpoints as users write them → gRPC targets. A unix socket is the normal case
 * (`unix:///run/containerd/containerd.sock`, also `unix:/path` and a bare absolute path);
 * TCP is accepted only to a loopback address, because churn never sends traffic off the
 * machine. It lives in common/ so the scenario schema checks `target.endpoint` with the very
 * rules the CRI client connects by.
 */
import { isIP } from 'node:net';
import { isAbsolute, normalize } from 'node:path';
import { ChurnError } from './errors.js';

/** A parsed endpoint. */
export type CriEndpoint =
  | { readonly kind: 'unix'; readonly socketPath: string; readonly target: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly target: string };

/** What to write instead, appended to every problem. */
const hint =
  'use unix:///absolute/path.sock (or unix:/path, or the bare absolute path), or tcp://127.0.0.1:PORT';

/** The endpoint, or what is wrong with it (without the hint). */
function parse(text: string): CriEndpoint | string {
  const trimmed = text.trim();
  if (trimmed === '') return 'it is empty';
  if (trimmed.startsWith('unix://')) return unixEndpoint(trimmed.slice('unix://'.length));
  if (trimmed.startsWith('unix:')) return unixEndpoint(trimmed.slice('unix:'.length));
  if (trimmed.startsWith('/')) return unixEndpoint(trimmed);

  const hostPort = trimmed.startsWith('tcp://') ? trimmed.slice('tcp://'.length) : trimmed;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(hostPort)) return 'unsupported scheme';
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:/[\]]+)):(\d{1,5})$/.exec(hostPort);
  if (match === null) return 'not a unix socket or a host:port';
  const host = (match[1] ?? match[2])!;
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) return `port ${port} is out of range`;
  if (!isLoopback(host)) {
    return `${host} is not a loopback address (churn never leaves this machine)`;
  }
  const target =
    isIP(host) === 6
      ? `ipv6:[${host}]:${port}`
      : `${host === 'localhost' ? '127.0.0.1' : host}:${port}`;
  return { kind: 'tcp', host, port, target };
}

function unixEndpoint(path: string): CriEndpoint | string {
  if (!isAbsolute(path)) return 'the socket path must be absolute';
  const socketPath = normalize(path);
  return { kind: 'unix', socketPath, target: `unix://${socketPath}` };
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * What is wrong with `text` as a CRI endpoint, with what to write instead (`unsupported scheme;
 * use unix:///…`), or undefined when it is a valid one.
 */
export function criEndpointProblem(text: string): string | undefined {
  const parsed = parse(text);
  return typeof parsed === 'string' ? `${parsed}; ${hint}` : undefined;
}

/** Parses `text`; ENDPOINT_INVALID when it is malformed or names a host off this machine. */
export function parseCriEndpoint(text: string): CriEndpoint {
  const parsed = parse(text);
  if (typeof parsed === 'string') {
    throw new ChurnError('ENDPOINT_INVALID', `endpoint "${text}": ${parsed}; ${hint}`);
  }
  return parsed;
}
