/**
 * Exec and attach over a SPDY session, as the kubelet's streaming server serves them
 * (remotecommand): the client opens one stream per channel, told apart by the `streamtype`
 * header — `error`, and as asked `stdin`, `stdout`, `stderr` (never with a tty) and, from
 * v3 with a tty, `resize` (JSON `{"Width":W,"Height":H}` objects one after another). Once all
 * are open the command runs; at its end stdout and stderr are closed and its outcome goes to
 * the error stream: from v4 a JSON metav1.Status (Success; Failure with reason
 * NonZeroExitCode and the code as a cause of type ExitCode; Failure InternalError with code
 * 500 when it could not run), before v4 the failure's message as text, nothing on success.
 */
import type { Socket } from 'node:net';
import type { StreamIo, TerminalSize } from '../../runtime/types.js';
import { SpdySession, type SpdyStream } from './spdy-session.js';

/** Which channels the client asked for. */
export interface RemoteCommandOptions {
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}

/** Runs the command wired to `io`; resolves with its exit code (undefined: no code, success). */
export type RemoteCommand = (io: StreamIo) => Promise<number | undefined>;

/** How long the client may take to open its streams (the kubelet's default: 30 s). */
export const streamCreationTimeoutMs = 30_000;

/** A metav1.Status as the v4 error stream carries it. */
export interface RemoteStatus {
  readonly metadata: Record<string, never>;
  readonly status: 'Success' | 'Failure';
  readonly message?: string;
  readonly reason?: string;
  readonly details?: { readonly causes: readonly { reason?: string; message: string }[] };
  readonly code?: number;
}

/** The status of a command that exited with `exitCode`. */
export function exitStatus(exitCode: number | undefined): RemoteStatus {
  if (exitCode === undefined || exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command, exit status ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** The status of a command that could not run. */
export function internalErrorStatus(message: string): RemoteStatus {
  const text = `error executing command in container: ${message}`;
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${text}`,
    reason: 'InternalError',
    details: { causes: [{ message: text }] },
    code: 500,
  };
}

/** What the error stream carries for `status` under `protocol` (undefined: nothing). */
export function encodeStatus(protocol: string, status: RemoteStatus): string | undefined {
  if (protocol === 'v4.channel.k8s.io') return JSON.stringify(status);
  return status.status === 'Success' ? undefined : (status.message ?? 'unknown error');
}

/** Splits a resize stream into sizes; feed it text as it comes. */
export class ResizeDecoder {
  #pending = '';

  /** The sizes completed by `text`; malformed objects are skipped. */
  push(text: string): TerminalSize[] {
    this.#pending += text;
    const sizes: TerminalSize[] = [];
    for (;;) {
      const start = this.#pending.indexOf('{');
      const end = this.#pending.indexOf('}', start + 1);
      if (start < 0 || end < 0) break;
      const object = this.#pending.slice(start, end + 1);
      this.#pending = this.#pending.slice(end + 1);
      try {
        const parsed = JSON.parse(object) as { Width?: unknown; Height?: unknown };
        const width = Number(parsed.Width);
        const height = Number(parsed.Height);
        if (Number.isInteger(width) && Number.isInteger(height) && width >= 0 && height >= 0) {
          sizes.push({ width, height });
        }
      } catch {
        // Not a size: skipped.
      }
    }
    if (this.#pending.length > 4096) this.#pending = '';
    return sizes;
  }
}

/**
 * Serves one exec or attach on an upgraded `socket` speaking `protocol`; resolves once the
 * session is over. `onError` hears failures of the command to run (for the daemon's log).
 */
export async function serveRemoteCommand(
  socket: Socket,
  head: Buffer,
  protocol: string,
  options: RemoteCommandOptions,
  run: RemoteCommand,
  onError: (err: unknown) => void,
): Promise<void> {
  const resizable =
    options.tty &&
    protocol !== 'v2.channel.k8s.io' &&
    protocol !== 'channel.k8s.io' &&
    protocol !== '';
  const wanted = new Set<string>(['error']);
  if (options.stdin) wanted.add('stdin');
  if (options.stdout) wanted.add('stdout');
  if (options.stderr && !options.tty) wanted.add('stderr');
  if (resizable) wanted.add('resize');
  const streams = new Map<string, SpdyStream>();
  let allOpen: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (allOpen = resolve));
  const session = new SpdySession(socket, head, (stream) => {
    const type = stream.header('streamtype');
    if (!wanted.has(type) || streams.has(type)) return false;
    streams.set(type, stream);
    stream.on('error', () => undefined);
    if (streams.size === wanted.size) allOpen();
    return true;
  });
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    opened.then(() => 'open' as const),
    session.closed.then(() => 'gone' as const),
    new Promise<'late'>(
      (resolve) => (timer = setTimeout(() => resolve('late'), streamCreationTimeoutMs)),
    ),
  ]);
  clearTimeout(timer);
  if (outcome !== 'open') {
    session.destroy();
    return;
  }
  const gone = new AbortController();
  void session.closed.then(() => gone.abort());
  const resizeStream = streams.get('resize');
  const stdout = streams.get('stdout');
  const stderr = streams.get('stderr');
  const io: StreamIo = {
    stdin: streams.get('stdin'),
    stdout,
    stderr,
    tty: options.tty,
    signal: gone.signal,
    onResize: (listener) => {
      if (resizeStream === undefined) return;
      const decoder = new ResizeDecoder();
      resizeStream.setEncoding('utf8');
      resizeStream.on('data', (text: string) => {
        for (const size of decoder.push(text)) listener(size);
      });
    },
  };
  let status: RemoteStatus;
  try {
    status = exitStatus(await run(io));
  } catch (err) {
    onError(err);
    status = internalErrorStatus(err instanceof Error ? err.message : String(err));
  }
  const errorStream = streams.get('error')!;
  const text = encodeStatus(protocol, status);
  await Promise.all([endStream(stdout), endStream(stderr), endStream(errorStream, text)]);
  await session.close();
}

function endStream(stream: SpdyStream | undefined, last?: string): Promise<void> {
  if (stream === undefined || stream.writableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('error', () => resolve());
    if (last === undefined) stream.end(() => resolve());
    else stream.end(last, () => resolve());
  });
}
