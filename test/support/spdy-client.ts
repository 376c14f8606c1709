/**
 * A small SPDY/3.1 client for the streaming server's integration tests: it upgrades an HTTP
 * POST as client-go does and opens streams as remotecommand and portforward do. It reuses the
 * framing and header-block code of src/cri/streaming (the stock crictl in test/e2e is the
 * independent judge of those).
 */
import { connect, type Socket } from 'node:net';
import {
  encodeData,
  encodeSynStream,
  FrameParser,
  type Frame,
} from '../../src/cri/streaming/spdy-frame.js';
import { HeaderCompressor, HeaderDecompressor } from '../../src/cri/streaming/spdy-header-block.js';

/** The answer to the upgrade request. */
export interface UpgradeAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Body of a refusal. */
  readonly body: string;
}

/** One stream the client opened. */
export class ClientStream {
  readonly chunks: Buffer[] = [];
  /** Set once the server replied (SYN_REPLY) or refused (RST_STREAM: false). */
  readonly replied: Promise<boolean>;
  /** Resolves when the server half-closed the stream (FIN, reset, or the connection ended). */
  readonly ended: Promise<void>;
  #reply!: (ok: boolean) => void;
  #end!: () => void;
  readonly #listeners = new Set<(chunk: Buffer) => void>();

  constructor(
    private readonly session: SpdyClient,
    readonly id: number,
  ) {
    this.replied = new Promise((resolve) => (this.#reply = resolve));
    this.ended = new Promise((resolve) => (this.#end = resolve));
  }

  /** Everything received so far, as text. */
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  /** Resolves once the received text matches `pattern`. */
  waitFor(pattern: RegExp): Promise<string> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (pattern.test(this.text())) {
          this.#listeners.delete(check);
          resolve(this.text());
        }
      };
      this.#listeners.add(check);
      check();
    });
  }

  write(data: string | Buffer, fin = false): void {
    this.session.send(encodeData(this.id, Buffer.from(data), fin));
  }

  end(): void {
    this.write(Buffer.alloc(0), true);
  }

  /** @internal */
  onFrame(frame: Frame): void {
    if (frame.kind === 'synReply') this.#reply(true);
    if (frame.kind === 'rstStream') {
      this.#reply(false);
      this.#end();
    }
    if (frame.kind === 'data') {
      if (frame.data.length > 0) {
        this.chunks.push(frame.data);
        for (const l of this.#listeners) l(frame.data);
      }
      if (frame.fin) this.#end();
    }
  }

  /** @internal */
  closed(): void {
    this.#reply(false);
    this.#end();
  }
}

/** A client session; see the module comment. */
export class SpdyClient {
  readonly #parser = new FrameParser();
  readonly #compressor = new HeaderCompressor();
  readonly #decompressor = new HeaderDecompressor();
  readonly #streams = new Map<number, ClientStream>();
  #nextId = 1;
  #outgoing: Promise<void> = Promise.resolve();
  #incoming: Promise<void> = Promise.resolve();
  /** Resolves when the connection is closed. */
  readonly closed: Promise<void>;
  /** Set when the server sent GOAWAY. */
  goAway = false;

  private constructor(private readonly socket: Socket) {
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        for (const s of this.#streams.values()) s.closed();
        this.#compressor.close();
        this.#decompressor.close();
        resolve();
      }),
    );
  }

  /**
   * POSTs to `url` asking to upgrade to SPDY/3.1 with `protocols`; resolves with the answer
   * and, on 101, a session.
   */
  static async connect(
    url: string,
    protocols: readonly string[],
    upgradeHeaders: Record<string, string> = { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' },
  ): Promise<{ answer: UpgradeAnswer; client?: SpdyClient }> {
    const { hostname, port, pathname } = new URL(url);
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const lines = [
      `POST ${pathname} HTTP/1.1`,
      `Host: ${hostname}:${port}`,
      ...Object.entries(upgradeHeaders).map(([k, v]) => `${k}: ${v}`),
      ...protocols.map((p) => `X-Stream-Protocol-Version: ${p}`),
      'Content-Length: 0',
    ];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    let buffer = Buffer.alloc(0);
    const head = await new Promise<{ head: string; rest: Buffer }>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        buffer = Buffer.concat([buffer, chunk]);
        const at = buffer.indexOf('\r\n\r\n');
        if (at < 0) return;
        socket.off('data', onData);
        resolve({ head: buffer.subarray(0, at).toString(), rest: buffer.subarray(at + 4) });
      };
      socket.on('data', onData);
      socket.once('error', reject);
      socket.once('end', () => reject(new Error('connection closed before an answer')));
    });
    const [statusLine, ...headerLines] = head.head.split('\r\n');
    const status = Number(statusLine!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    if (status !== 101) {
      const body = await new Promise<string>((resolve) => {
        const parts = [head.rest];
        socket.on('data', (c: Buffer) => parts.push(c));
        socket.once('close', () => resolve(Buffer.concat(parts).toString()));
        socket.resume();
      });
      return { answer: { status, headers, body } };
    }
    const client = new SpdyClient(socket);
    socket.on('data', (chunk: Buffer) => client.#feed(chunk));
    socket.on('error', () => socket.destroy());
    if (head.rest.length > 0) client.#feed(head.rest);
    return { answer: { status, headers, body: '' }, client };
  }

  /** Opens a stream with `headers` (the server answers asynchronously: see `replied`). */
  open(headers: Record<string, string>, fin = false): ClientStream {
    const id = this.#nextId;
    this.#nextId += 2;
    const stream = new ClientStream(this, id);
    this.#streams.set(id, stream);
    const map = new Map(Object.entries(headers).map(([k, v]) => [k, [v]] as const));
    this.#outgoing = this.#outgoing.then(async () => {
      const block = await this.#compressor.compress(map);
      this.socket.write(encodeSynStream(id, block, fin));
    });
    return stream;
  }

  /** @internal */
  send(bytes: Buffer): void {
    this.#outgoing = this.#outgoing.then(() => {
      this.socket.write(bytes);
    });
  }

  /** Closes the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }

  #feed(chunk: Buffer): void {
    for (const frame of this.#parser.push(chunk)) {
      this.#incoming = this.#incoming.then(async () => {
        if (frame.kind === 'synReply' || frame.kind === 'headers') {
          await this.#decompressor.decompress(frame.headerBlock);
        }
        if (frame.kind === 'goAway') this.goAway = true;
        if ('streamId' in frame) this.#streams.get(frame.streamId)?.onFrame(frame);
      });
    }
  }
}
