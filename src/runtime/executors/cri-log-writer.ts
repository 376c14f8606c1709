/**
 * Container logs in the CRI format, as containerd writes them:
 * `<timestamp> <stdout|stderr> <F|P> <content>\n`, one line per line of output. A line longer
 * than {@link maxLogLineBytes} is split into partial (P) lines, and output that ends without a
 * newline is written as a partial line when its stream closes. Timestamps are RFC 3339 with
 * nine fractional digits in UTC (`2006-01-02T15:04:05.000000000Z`).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { wallClockNs } from '../../common/clock.js';

/** containerd's default max_container_log_line_size. */
export const maxLogLineBytes = 16 * 1024;

/** Formats `ns` (since the epoch) as RFC 3339 with nine fractional digits, UTC. */
export function formatLogTimestamp(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2006-01-02T15:04:05.000Z
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${fraction}Z`;
}

/** Resolves once `out` has closed (or failed). */
function closedOf(out: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    out.once('close', resolve);
    out.once('error', () => resolve());
  });
}

/** Opens `path` for appending; resolves once the file exists. */
async function openLogFile(path: string): Promise<WriteStream> {
  const out = createWriteStream(path, { flags: 'a', mode: 0o600 });
  await once(out, 'ready');
  return out;
}

/**
 * Writes the stdout and stderr of one task to one CRI log file. {@link reopen} starts a new file
 * at the same path (CRI ReopenContainerLog, after a log rotator moved the old one away).
 */
export class CriLogWriter {
  readonly #path: string;
  #out: WriteStream;
  readonly #now: () => bigint;
  #closed: Promise<void>;
  #closing = false;

  private constructor(path: string, out: WriteStream, now: () => bigint) {
    this.#path = path;
    this.#out = out;
    this.#now = now;
    this.#closed = closedOf(out);
  }

  /**
   * Opens `path` for appending (creating its directory); resolves once the file exists, so a
   * client that reads the log as soon as StartContainer returns finds it (critest does).
   */
  static async open(path: string, now: () => bigint = wallClockNs): Promise<CriLogWriter> {
    await mkdir(dirname(path), { recursive: true });
    return new CriLogWriter(path, await openLogFile(path), now);
  }

  /**
   * Opens the log path anew (creating the file if it was moved or removed) and writes there from
   * now on; the old file is flushed and closed. Rejects (the old file kept) when the path cannot
   * be opened, or once the writer is closing.
   */
  async reopen(): Promise<void> {
    if (this.#closing) throw new Error('the log is closed');
    const fresh = await openLogFile(this.#path);
    // close() may have begun while the file opened.
    if (this.#isClosing()) {
      fresh.end();
      throw new Error('the log is closed');
    }
    const old = this.#out;
    const oldClosed = this.#closed;
    this.#out = fresh;
    this.#closed = closedOf(fresh);
    old.end();
    await oldClosed;
  }

  /** Copies `stream` into the log as `name`; resolves when `stream` has ended. */
  async pump(stream: Readable, name: 'stdout' | 'stderr'): Promise<void> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const emit = (tag: 'F' | 'P', parts: Buffer[]): void => {
      const head = `${formatLogTimestamp(this.#now())} ${name} ${tag} `;
      this.#out.write(Buffer.concat([Buffer.from(head), ...parts, Buffer.from('\n')]));
    };
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        let start = 0;
        while (start < chunk.length) {
          const nl = chunk.indexOf(0x0a, start);
          const end = nl < 0 ? chunk.length : nl;
          let piece = chunk.subarray(start, end);
          // Split what would make a line longer than the limit into partial lines.
          while (pendingBytes + piece.length > maxLogLineBytes) {
            const room = maxLogLineBytes - pendingBytes;
            emit('P', [...pending, piece.subarray(0, room)]);
            pending = [];
            pendingBytes = 0;
            piece = piece.subarray(room);
          }
          if (nl < 0) {
            if (piece.length > 0) {
              pending.push(Buffer.from(piece));
              pendingBytes += piece.length;
            }
            break;
          }
          emit('F', [...pending, piece]);
          pending = [];
          pendingBytes = 0;
          start = nl + 1;
        }
      }
    } catch {
      // A broken pipe ends the stream; what was read is still logged.
    }
    if (pendingBytes > 0) emit('P', pending);
  }

  #isClosing(): boolean {
    return this.#closing;
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#out.end();
    await this.#closed;
  }
}
