/**
 * A CliIo whose output goes to strings, for running the CLI in-process:
 * `const io = bufferIo(); const code = await runCli(['validate', f], io.io); io.stdout()`.
 */
import type { CliIo, StopSignalName } from '../../src/cli/io.js';

/** Options for {@link bufferIo}. */
export interface BufferIoOptions {
  /** Working directory the command sees; the process's by default. */
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Pretend a terminal is attached (colour, live status). Default false. */
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** A buffer-backed io plus what was written to it and a way to send stop signals. */
export interface BufferIo {
  readonly io: CliIo;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Delivers a stop signal to every subscribed listener, as Ctrl-C would. */
  signal(name: StopSignalName): void;
}

/** Creates a {@link BufferIo}. */
export function bufferIo(options: BufferIoOptions = {}): BufferIo {
  let out = '';
  let err = '';
  const listeners = new Set<(signal: StopSignalName) => void>();
  const isTTY = options.isTTY ?? false;
  const io: CliIo = {
    stdout: {
      write: (text) => {
        out += text;
      },
      isTTY,
      columns: options.columns ?? 100,
    },
    stderr: {
      write: (text) => {
        err += text;
      },
      isTTY,
    },
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    onStopSignal(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    io,
    stdout: () => out,
    stderr: () => err,
    signal: (name) => {
      for (const listener of [...listeners]) listener(name);
    },
  };
}
