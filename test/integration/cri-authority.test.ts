// Every CRI client a node may run gets answers from `churn serve`, whatever it sends as
// `:authority` (src/cri/connection-gate.ts): grpc-go sends the socket path, grpc C-core a
// percent-encoded path, grpc-js `localhost`. Raw HTTP/2 clients over the real socket, so each
// request is exactly what the test says; the stock crictl is the judge in test/e2e.
import { connect, type ClientHttp2Session } from 'node:http2';
import { createConnection } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CriClient } from '../../src/cri/client.js';
import { peekWaitMs } from '../../src/cri/connection-gate.js';
import { serveCore } from '../support/cri-serve.js';

/** An HTTP/2 session over the unix socket at `path`. */
function session(path: string): ClientHttp2Session {
  const s = connect('http://localhost', { createConnection: () => createConnection({ path }) });
  s.on('error', () => undefined);
  onTestFinished(() => {
    s.destroy();
  });
  return s;
}

/** Calls RuntimeService/Version with `authority`; resolves with grpc-status and the body. */
function version(
  s: ClientHttp2Session,
  authority: string,
): Promise<{ status: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = s.request({
      ':method': 'POST',
      ':path': '/runtime.v1.RuntimeService/Version',
      ':authority': authority,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    req.on('response', (headers) => {
      const s = headers['grpc-status'];
      if (typeof s === 'string') status = s;
    });
    req.on('trailers', (trailers: Record<string, string | string[] | undefined>) => {
      const s = trailers['grpc-status'];
      if (typeof s === 'string') status = s;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
    req.on('error', reject);
    // A gRPC message: not compressed, length 0 (an empty VersionRequest).
    req.end(Buffer.from([0, 0, 0, 0, 0]));
  });
}

describe('churn serve answers any :authority', () => {
  it.each([
    ['the socket path (grpc-go: kubelet, crictl, critest)', (p: string) => p],
    ['a percent-encoded path (grpc C-core)', (p: string) => encodeURIComponent(p)],
    ['localhost (grpc-js)', () => 'localhost'],
  ])('%s, on every request of the connection', async (_name, authorityOf) => {
    const served = await serveCore(onTestFinished);
    const s = session(served.socketPath);
    const authority = authorityOf(served.socketPath);
    for (let i = 0; i < 3; i++) {
      const { status, body } = await version(s, authority);
      expect(status).toBe('0');
      expect(body.subarray(5).toString('latin1')).toContain('churn-core');
    }
  });

  it('a client silent past the wait, then calling with the socket path, is answered', async () => {
    const served = await serveCore(onTestFinished);
    const s = session(served.socketPath);
    await new Promise<void>((resolve) => s.once('remoteSettings', () => resolve()));
    await new Promise((r) => setTimeout(r, peekWaitMs + 200));
    expect((await version(s, served.socketPath)).status).toBe('0');
  });

  it('garbage on one connection closes it; the server keeps answering others', async () => {
    const served = await serveCore(onTestFinished);
    const closed = await new Promise<boolean>((resolve) => {
      const c = createConnection({ path: served.socketPath });
      c.on('error', () => undefined);
      c.on('close', () => resolve(true));
      c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      c.resume();
    });
    expect(closed).toBe(true);
    const client = new CriClient(served.endpoint, { callTimeoutMs: 5000 });
    onTestFinished(() => client.close());
    expect((await client.runtime('Version', {})).runtimeName).toBe('churn-core');
  });

  it('a broken header block gets GOAWAY COMPRESSION_ERROR', async () => {
    const served = await serveCore(onTestFinished);
    const bytes = await new Promise<Buffer>((resolve) => {
      const c = createConnection({ path: served.socketPath });
      const got: Buffer[] = [];
      c.on('data', (d: Buffer) => got.push(d));
      c.on('error', () => undefined);
      c.on('close', () => resolve(Buffer.concat(got)));
      const headers = Buffer.from([0, 0, 1, 0x1, 0x4, 0, 0, 0, 1, 0x80 | 100]);
      c.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), headers]));
    });
    // Our SETTINGS, then GOAWAY (type 7) with error code 9.
    const goaway = bytes.indexOf(Buffer.from([0, 0, 8, 0x7]));
    expect(goaway).toBeGreaterThanOrEqual(0);
    expect(bytes.readUInt32BE(goaway + 13)).toBe(0x9);
  });
});
