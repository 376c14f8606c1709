/**
 * Port forwarding over a SPDY session, as the kubelet's streaming server serves it
 * (portforward.k8s.io): for each forwarded connection the client opens two streams with the
 * same `requestid` and `port` headers, `streamtype: error` and `streamtype: data`. Once both
 * are open the server connects to the port in the pod and copies bytes both ways over the data
 * stream, half-closing each way as the other side does; a failure to connect is written as
 * text to the error stream. Both streams are closed when the connection is done. One session
 * carries any number of such pairs until the client closes it.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { SpdySession, type SpdyStream } from './spdy-session.js';

/** Connects to `port` in the pod; rejects when it cannot. */
export type PortDialer = (port: number) => Promise<Duplex>;

interface Pair {
  data?: SpdyStream;
  error?: SpdyStream;
}

/** The port a stream names, or undefined when its `port` header is not one of 1..65535. */
export function streamPort(value: string): number | undefined {
  if (!/^\d{1,5}$/.test(value)) return undefined;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/**
 * Serves port forwarding on an upgraded `socket` until the client closes it. `onError` hears
 * connections that failed (for the daemon's log).
 */
export async function servePortForward(
  socket: Socket,
  head: Buffer,
  dial: PortDialer,
  onError: (err: unknown) => void,
): Promise<void> {
  const pairs = new Map<string, Pair>();
  const forwards = new Set<Promise<void>>();
  const session = new SpdySession(socket, head, (stream) => {
    const port = streamPort(stream.header('port'));
    const type = stream.header('streamtype');
    if (port === undefined || (type !== 'data' && type !== 'error')) return false;
    // Old clients send no request id: the kubelet derives one from the stream ids.
    const requestId =
      stream.header('requestid') || String(type === 'error' ? stream.id : stream.id - 2);
    const pair = pairs.get(requestId) ?? {};
    if (pair[type] !== undefined) return false;
    pair[type] = stream;
    pairs.set(requestId, pair);
    stream.on('error', () => undefined);
    if (pair.data !== undefined && pair.error !== undefined) {
      pairs.delete(requestId);
      const done = forward(pair.data, pair.error, port, dial, onError);
      forwards.add(done);
      void done.finally(() => forwards.delete(done));
    }
    return true;
  });
  await session.closed;
  await Promise.all(forwards);
}

async function forward(
  data: SpdyStream,
  error: SpdyStream,
  port: number,
  dial: PortDialer,
  onError: (err: unknown) => void,
): Promise<void> {
  // The client writes nothing on the error stream; read it so that its FIN is seen.
  error.resume();
  let conn: Duplex;
  try {
    conn = await dial(port);
  } catch (err) {
    onError(err);
    const message = err instanceof Error ? err.message : String(err);
    error.end(`error forwarding port ${port}: ${message}`);
    data.end();
    return;
  }
  await new Promise<void>((resolve) => {
    let open = 2;
    const oneDone = (): void => {
      if (--open === 0) resolve();
    };
    conn.on('error', () => {
      data.destroy();
      resolve();
    });
    data.on('close', () => {
      conn.destroy();
      resolve();
    });
    // Client → pod, then half-close towards the pod.
    data.pipe(conn);
    data.once('end', oneDone);
    // Pod → client, then FIN on the data stream.
    conn.pipe(data);
    conn.once('end', oneDone);
  });
  conn.destroy();
  if (!error.writableEnded && !error.destroyed) error.end();
  if (!data.writableEnded && !data.destroyed) data.end();
}
