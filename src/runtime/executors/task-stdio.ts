/**
 * The live stdio of a task whose container was created with `stdin: true` (CRI attach with
 * input): its stdin kept open, and its output offered to attached clients as it comes, beside
 * the CRI log. Tasks without it have no live stdio: attach reads their log (log-follow.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { StreamIo } from '../types.js';

/** Hears one chunk of a task's output. */
export type OutputListener = (stream: 'stdout' | 'stderr', chunk: Buffer) => void;

/** See the module comment. */
export interface TaskStdio {
  /** The task's stdin, open until the task exits or an attach with stdin_once ends it. */
  readonly stdin: Writable;
  /** Hears the output written from now on; returns what removes the listener. */
  onOutput(listener: OutputListener): () => void;
}

/**
 * Taps `child` (spawned with stdin, stdout and stderr piped): its output goes to listeners and
 * to the returned streams, which take the place of the child's for the log.
 */
export function tapTaskStdio(child: ChildProcess): {
  stdio: TaskStdio;
  stdout: Readable;
  stderr: Readable;
} {
  const listeners = new Set<OutputListener>();
  const tap = (from: Readable, name: 'stdout' | 'stderr'): Readable => {
    const copy = new PassThrough();
    from.on('data', (chunk: Buffer) => {
      copy.write(chunk);
      for (const listener of listeners) listener(name, chunk);
    });
    from.on('end', () => copy.end());
    from.on('error', () => copy.end());
    return copy;
  };
  const stdout = tap(child.stdout!, 'stdout');
  const stderr = tap(child.stderr!, 'stderr');
  child.stdin!.on('error', () => undefined); // EPIPE once the task stopped reading
  return {
    stdio: {
      stdin: child.stdin!,
      onOutput(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    stdout,
    stderr,
  };
}

/**
 * Attach to a task's live stdio: its output from now on to `io`, `io.stdin` to its stdin. Ends
 * when the task has exited, the client is gone, or the client's stdin ends: then with
 * `stdinOnce` the task's stdin is closed too (and the attach waits for the task to exit), as
 * containerd does; otherwise only the attach ends.
 */
export async function attachToTask(
  stdio: TaskStdio,
  exited: Promise<unknown>,
  io: StreamIo,
  stdinOnce: boolean,
): Promise<void> {
  const off = stdio.onOutput((stream, chunk) => {
    (stream === 'stdout' ? io.stdout : io.stderr)?.write(chunk);
  });
  const cleanups: (() => void)[] = [off];
  const ends: Promise<unknown>[] = [exited];
  ends.push(
    new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    }),
  );
  const input = io.stdin;
  if (input !== undefined) {
    const onData = (chunk: Buffer | string): void => void stdio.stdin.write(chunk);
    input.on('data', onData);
    cleanups.push(() => input.removeListener('data', onData));
    const inputEnded = new Promise<void>((resolve) => input.once('end', () => resolve()));
    if (stdinOnce) void inputEnded.then(() => stdio.stdin.end());
    else ends.push(inputEnded);
  }
  try {
    await Promise.race(ends);
  } finally {
    for (const cleanup of cleanups) cleanup();
  }
}
