/**
 * The HTTP side of a Kubernetes streaming request (as k8s.io/apimachinery's httpstream does
 * it): the client POSTs with `Connection: Upgrade`, `Upgrade: SPDY/3.1` and one
 * `X-Stream-Protocol-Version` per protocol it speaks; the server picks the first of the
 * client's it supports and answers `101 Switching Protocols` naming it, or refuses: 400
 * without the upgrade headers, 403 (listing its own in `X-Accepted-Stream-Protocol-Versions`)
 * when they have none in common.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** The remote-command protocols, newest first (v1 is `channel.k8s.io`). */
export const remoteCommandProtocols = [
  'v4.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
] as const;

/** The port-forward protocol. */
export const portForwardProtocols = ['portforward.k8s.io'] as const;

/** The protocols a client offers, in its order. */
export function offeredProtocols(req: IncomingMessage): string[] {
  const raw = req.headers['x-stream-protocol-version'];
  const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/**
 * The protocol to speak: the client's first that `supported` has; '' when the client offered
 * none (the oldest protocol then); undefined when they share none.
 */
export function negotiateProtocol(
  offered: readonly string[],
  supported: readonly string[],
): string | undefined {
  if (offered.length === 0) return '';
  return offered.find((p) => supported.includes(p));
}

/** Whether `req` asks to upgrade to SPDY/3.1. */
export function isSpdyUpgrade(req: IncomingMessage): boolean {
  const connection = (req.headers.connection ?? '').toLowerCase();
  const upgrade = (req.headers.upgrade ?? '').toLowerCase();
  return connection.split(',').some((t) => t.trim() === 'upgrade') && upgrade === 'spdy/3.1';
}

/** Writes a plain HTTP error response on an upgrade socket and closes it. */
export function refuseUpgrade(
  socket: Socket,
  status: 400 | 403 | 404 | 500,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  const reason = {
    400: 'Bad Request',
    403: 'Forbidden',
    404: 'Not Found',
    500: 'Internal Server Error',
  }[status];
  const body = `${message}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${reason}`,
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

/** Answers the upgrade: the socket then speaks SPDY with `protocol` ('' names none). */
export function acceptUpgrade(socket: Socket, protocol: string): void {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: SPDY/3.1'];
  if (protocol !== '') lines.push(`X-Stream-Protocol-Version: ${protocol}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
}
