/**
 * GrpcH2 (the containerd client's gRPC over node:http2) against a small gRPC server on a unix
 * socket: responses and their framing, statuses from trailers and from trailers-only
 * responses, the deadline, the abort signal, a socket nobody listens on, and a server that
 * goes away and comes back.
 */
import {
  createServer,
  type Http2Server,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isChurnError } from '../../../src/common/errors.js';
import { GrpcH2 } from '../../../src/drivers/containerd/grpc-h2.js';
import { tempDir } from '../../support/core-fixtures.js';

type Handler = (stream: ServerHttp2Stream, body: Buffer, headers: Record<string, unknown>) => void;

const servers: Http2Server[] = [];
/** Each server's live sessions. */
const sessions = new WeakMap<Http2Server, Set<ServerHttp2Session>>();
const clients: GrpcH2[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(
    servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
  );
});

function frame(...messages: Buffer[]): Buffer {
  return Buffer.concat(
    messages.map((m) => {
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(m.length, 1);
      return Buffer.concat([prefix, m]);
    }),
  );
}

/** Answers with `messages` and status `code` in trailers. */
function answer(stream: ServerHttp2Stream, messages: Buffer[], code = 0, message = ''): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () =>
    stream.sendTrailers({ 'grpc-status': String(code), 'grpc-message': encodeURI(message) }),
  );
  stream.end(frame(...messages));
}

async function serve(socket: string, handler: Handler): Promise<Http2Server> {
  const server = createServer();
  const live = new Set<ServerHttp2Session>();
  sessions.set(server, live);
  server.on('session', (session) => {
    live.add(session);
    session.on('close', () => live.delete(session));
  });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => handler(stream, Buffer.concat(chunks), headers));
    stream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  servers.push(server);
  return server;
}

async function socketPath(): Promise<string> {
  return join(await tempDir('churn-grpc-h2-'), 'grpc.sock');
}

function client(socket: string): GrpcH2 {
  const c = new GrpcH2(socket, { 'containerd-namespace': 'ns' });
  clients.push(c);
  return c;
}

const call = (
  c: GrpcH2,
  options: { timeoutMs?: number; signal?: AbortSignal; message?: Buffer } = {},
): Promise<Buffer[]> =>
  c.call({
    path: '/pkg.Service/Method',
    message: options.message ?? Buffer.from('request'),
    timeoutMs: options.timeoutMs ?? 5000,
    signal: options.signal,
    context: () => 'test call',
  });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return isChurnError(err) ? `${err.code}: ${err.message}` : `not a ChurnError: ${String(err)}`;
  }
}

describe('GrpcH2', () => {
  it('sends the framed request with the headers and returns every response message', async () => {
    const socket = await socketPath();
    const seen: { body?: Buffer; headers?: Record<string, unknown> } = {};
    await serve(socket, (stream, body, headers) => {
      Object.assign(seen, { body, headers });
      answer(stream, [Buffer.from('one'), Buffer.alloc(0), Buffer.from('three')]);
    });
    const messages = await call(client(socket), { timeoutMs: 2500 });
    expect(messages.map((m) => m.toString())).toEqual(['one', '', 'three']);
    expect(seen.body).toEqual(frame(Buffer.from('request')));
    expect(seen.headers).toMatchObject({
      ':method': 'POST',
      ':path': '/pkg.Service/Method',
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': '2500m',
      'containerd-namespace': 'ns',
    });
  });

  it("fails with the status's name and the server's decoded message", async () => {
    const socket = await socketPath();
    await serve(socket, (stream) => answer(stream, [], 5, 'container "x": not found'));
    expect(await codeOf(call(client(socket)))).toBe(
      'NOT_FOUND: test call: container "x": not found',
    );
  });

  it('reads the status of a trailers-only response', async () => {
    const socket = await socketPath();
    await serve(socket, (stream) => {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '9',
          'grpc-message': 'busy',
        },
        { endStream: true },
      );
    });
    expect(await codeOf(call(client(socket)))).toBe('FAILED_PRECONDITION: test call: busy');
  });

  it('fails DEADLINE_EXCEEDED when no answer comes in time, CANCELLED when aborted', async () => {
    const socket = await socketPath();
    await serve(socket, () => undefined);
    const c = client(socket);
    expect(await codeOf(call(c, { timeoutMs: 50 }))).toMatch(/^DEADLINE_EXCEEDED: test call/);
    const controller = new AbortController();
    const pending = call(c, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    expect(await codeOf(pending)).toMatch(/^CANCELLED: test call/);
    expect(await codeOf(call(c, { signal: AbortSignal.abort() }))).toBe(
      'CANCELLED: test call: cancelled before it was sent',
    );
  });

  it('fails INTERNAL for a response whose framing is cut short', async () => {
    const socket = await socketPath();
    await serve(socket, (stream) => {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc' },
        { waitForTrailers: true },
      );
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(frame(Buffer.from('whole')).subarray(0, 7));
    });
    expect(await codeOf(call(client(socket)))).toMatch(/^INTERNAL: test call: malformed/);
  });

  it('fails UNAVAILABLE naming the socket when nothing listens, and connects once a server does', async () => {
    const socket = await socketPath();
    const c = client(socket);
    expect(await codeOf(call(c))).toBe(`UNAVAILABLE: test call: connect ENOENT ${socket}`);
    await serve(socket, (stream) => answer(stream, [Buffer.from('up')]));
    expect((await call(c)).map(String)).toEqual(['up']);
  });

  it('connects afresh after the server went away', async () => {
    const socket = await socketPath();
    const first = await serve(socket, (stream) => answer(stream, [Buffer.from('first')]));
    const c = client(socket);
    expect((await call(c)).map(String)).toEqual(['first']);
    // Closing the server ends its sessions: the client's goes too.
    const closed = new Promise<void>((resolve) => first.close(() => resolve()));
    servers.splice(servers.indexOf(first), 1);
    for (const session of sessions.get(first) ?? []) session.destroy();
    await closed;
    await serve(socket, (stream) => answer(stream, [Buffer.from('second')]));
    // A call that races the old session's end may fail UNAVAILABLE (as through grpc-js); the
    // next one is on a new session.
    expect(await codeOf(call(c))).toMatch(/^(resolved|UNAVAILABLE: .*)$/);
    expect((await call(c)).map(String)).toEqual(['second']);
  });

  it('fails UNAVAILABLE once closed', async () => {
    const socket = await socketPath();
    await serve(socket, (stream) => answer(stream, [Buffer.from('x')]));
    const c = client(socket);
    c.close();
    expect(await codeOf(call(c))).toBe('UNAVAILABLE: test call: client closed');
  });
});
