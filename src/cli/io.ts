/**
 * What a command may touch of the outside world, passed in so the whole CLI runs in tests:
 * output streams, environment, working directory, and the stop signals (SIGINT/SIGTERM).
 */

/** A text sink: process.stdout in real life, a buffer in tests. */
export interface Output {
  write(text: string): void;
  /** True when a terminal is attached (live status line, colour). */
  readonly isTTY: boolean;
  /** Terminal width in columns when a TTY. */
  readonly columns?: number;
}

/**
 * A stop request from outside: which signal, for the exit code (130 SIGINT, 143 SIGTERM, 129
 * SIGHUP: the terminal went away, e.g. a dropped ssh session).
 */
export type StopSignalName = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/** The world as a command sees it. */
export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Subscribes to stop signals; returns the unsubscribe function. */
  onStopSignal(listener: (signal: StopSignalName) => void): () => void;
}
