/**
 * GrpcH2 (gRPC over node:http2, the transport of the CRI client and the containerd driver)
 * against a small HTTP/2 server on a unix socket or loopback TCP: responses and their framing,
 * statuses from trailers, from trailers-only responses and from bare HTTP statuses, the
 * deadline, the abort signal, the message limit both ways, keepalive pings only while calls
 * are in flight, a socket nobody listens on, and a server that goes away and comes back.
 */
import {
  createServer,
  type Http2Server,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { isChurnError } from '../../../src/common/errors.js';
import { emptySettingsFrame } from '../../../src/cri/authority-rewriter.js';
import { GrpcH2, type GrpcH2Options } from '../../../src/cri/grpc-h2.js';
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

/** Sends the response headers; status `code` goes in the trailers once the body ends. */
function respond(stream: ServerHttp2Stream, code = 0, message = ''): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () =>
    stream.sendTrailers({ 'grpc-status': String(code), 'grpc-message': encodeURI(message) }),
  );
}

/** Answers with `messages` and status `code` in trailers. */
function answer(stream: ServerHttp2Stream, messages: Buffer[], code = 0, message = ''): void {
  respond(stream, code, message);
  stream.end(frame(...messages));
}

async function serve(
  socket: string | { port: number },
  handler: Handler,
  onSession?: (session: ServerHttp2Session) => void,
): Promise<Http2Server> {
  const server = createServer();
  const live = new Set<ServerHttp2Session>();
  sessions.set(server, live);
  server.on('session', (session) => {
    live.add(session);
    session.on('close', () => live.delete(session));
    onSession?.(session);
  });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => handler(stream, Buffer.concat(chunks), headers));
    stream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) =>
    typeof socket === 'string'
      ? server.listen(socket, resolve)
      : server.listen(socket.port, '127.0.0.1', resolve),
  );
  servers.push(server);
  return server;
}

async function socketPath(): Promise<string> {
  return join(await tempDir('churn-grpc-h2-'), 'grpc.sock');
}

function client(socket: string, options: GrpcH2Options = {}): GrpcH2 {
  const c = new GrpcH2(
    { kind: 'unix', socketPath: socket },
    { headers: { 'containerd-namespace': 'ns' }, ...options },
  );
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
      respond(stream);
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

  it('fails RESOURCE_EXHAUSTED for a request or a response message over the limit', async () => {
    const socket = await socketPath();
    let calls = 0;
    await serve(socket, (stream, body) => {
      calls++;
      // Echoes the request's message, then one of 101 bytes.
      answer(stream, [body.subarray(5), Buffer.alloc(101)]);
    });
    const c = client(socket, { maxMessageBytes: 100 });
    expect(await codeOf(call(c, { message: Buffer.alloc(101) }))).toBe(
      'RESOURCE_EXHAUSTED: test call: Sent message larger than max (101 vs. 100)',
    );
    expect(calls).toBe(0);
    expect(await codeOf(call(c, { message: Buffer.alloc(100) }))).toBe(
      'RESOURCE_EXHAUSTED: test call: Received message larger than max (101 vs. 100)',
    );
    expect(calls).toBe(1);
  });

  it('takes a response split anywhere, its length prefixes across chunks', async () => {
    const socket = await socketPath();
    await serve(socket, (stream) => {
      respond(stream);
      const body = frame(Buffer.alloc(60, 1), Buffer.alloc(40, 2));
      // Byte by byte, so every prefix arrives in pieces.
      const write = (at: number): void => {
        if (at === body.length) {
          stream.end();
          return;
        }
        stream.write(body.subarray(at, at + 1), () => write(at + 1));
      };
      write(0);
    });
    const messages = await call(client(socket, { maxMessageBytes: 60 }));
    expect(messages.map((m) => m.length)).toEqual([60, 40]);
  });

  it('judges a response without a gRPC status by its HTTP status', async () => {
    const socket = await socketPath();
    await serve(socket, (stream) => stream.respond({ ':status': 503 }, { endStream: true }));
    expect(await codeOf(call(client(socket)))).toBe(
      'UNAVAILABLE: test call: Received HTTP status code 503',
    );
  });

  it('calls over loopback TCP with host:port as the authority', async () => {
    const seen: { headers?: Record<string, unknown> } = {};
    const server = await serve({ port: 0 }, (stream, _body, headers) => {
      seen.headers = headers;
      answer(stream, [Buffer.from('tcp')]);
    });
    const { port } = server.address() as { port: number };
    const c = new GrpcH2({ kind: 'tcp', host: '127.0.0.1', port });
    clients.push(c);
    expect((await call(c)).map(String)).toEqual(['tcp']);
    expect(seen.headers?.[':authority']).toBe(`127.0.0.1:${port}`);
  });

  it('sends keepalive pings only while a call is in flight', async () => {
    const socket = await socketPath();
    let pings = 0;
    const pending: ServerHttp2Stream[] = [];
    await serve(
      socket,
      (stream) => pending.push(stream),
      (session) => session.on('ping', () => pings++),
    );
    const c = client(socket, { keepaliveMs: 20 });
    const slow = call(c);
    await until(() => pings >= 2);
    for (const stream of pending.splice(0)) answer(stream, [Buffer.from('done')]);
    expect((await slow).map(String)).toEqual(['done']);
    // Idle: no more pings, however many intervals pass.
    const idleFrom = pings;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(pings).toBe(idleFrom);
  });

  it('drops the session and fails its calls UNAVAILABLE when a ping is not acknowledged', async () => {
    const socket = await socketPath();
    // An HTTP/2 peer that sends its SETTINGS and then reads and answers nothing, pings included.
    const mute = createNetServer((connection) => {
      connection.on('error', () => undefined);
      connection.write(emptySettingsFrame);
      connection.resume();
    });
    await new Promise<void>((resolve) => mute.listen(socket, resolve));
    onTestFinished(() => new Promise<void>((resolve) => mute.close(() => resolve())));
    const c = client(socket, { keepaliveMs: 20, keepaliveTimeoutMs: 50 });
    expect(await codeOf(call(c))).toBe('UNAVAILABLE: test call: keepalive ping not acknowledged');
  });

  it('fails a call in flight UNAVAILABLE when the server drops the connection', async () => {
    const socket = await socketPath();
    const server = await serve(socket, () => {
      for (const session of sessions.get(server) ?? []) session.destroy();
    });
    expect(await codeOf(call(client(socket)))).toMatch(/^UNAVAILABLE: test call: /);
  });
});

/** Resolves once `condition()` holds (checked every 5 ms). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
