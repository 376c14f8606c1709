/**
 * The built-in core in a process of its own, as the `builtin` driver runs it: the harness's
 * event loop schedules cycles, takes timestamps and serves /metrics, and nothing of the
 * core's work (synchronous spawns, journal writes, /proc reads) runs on it.
 *
 * Why a child process and not a worker thread (measured, docs/performance.md): the core's
 * spawns fork the process they run in, and a fork copies the page tables of the whole
 * process, the harness's heap included; in a small process of its own each fork is cheaper,
 * the core's CPU and memory are sampled apart from churn's (as a daemon's are), and a harness
 * killed with SIGKILL leaves a core that notices and cleans up after itself.
 *
 * Calls: each is one message and one answer (core-process-protocol.ts). A call given a signal
 * fails with CANCELLED as soon as it aborts, as a CRI call does when its client cancels it;
 * the core's work goes on (a stop's grace period is told, and ends). If the process exits,
 * every pending and later call fails with UNAVAILABLE.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { onAbort } from '../common/abort.js';
import { codePath, fromSources } from '../common/package-files.js';
import { decodeValue, encodeValue } from './core-process-codec.js';
import {
  ChurnError,
  harnessErrorCodes,
  isRuntimeErrorCode,
  type ErrorCode,
} from '../common/errors.js';
import type {
  CoreArgs,
  CoreMethod,
  CoreOpenOptions,
  CoreResult,
  FromCore,
  ToCore,
  WireError,
} from './core-process-protocol.js';

/** How long `close` waits for the core to stop its tasks before killing it, ms. */
const closeTimeoutMs = 60_000;

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
}

/** The core process's entry: dist/drivers/core-process-main.js built, the .ts under tsx. */
function entry(): { readonly path: string; readonly execArgv: string[] } {
  return {
    path: codePath('drivers/core-process-main.js'),
    execArgv: fromSources ? ['--import', 'tsx'] : [],
  };
}

const harnessCodes: ReadonlySet<string> = new Set(harnessErrorCodes);

/** The ChurnError an answer carries: same code and message (INTERNAL for a non-churn error). */
function errorOf(wire: WireError, context: string): ChurnError {
  const known = isRuntimeErrorCode(wire.code) || harnessCodes.has(wire.code);
  const code = (known ? wire.code : 'INTERNAL') as ErrorCode;
  return new ChurnError(code, known ? wire.message : `${context}: ${wire.message}`);
}

/** A running core process; start with {@link CoreProcess.start}. */
export class CoreProcess {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  /** Why calls fail now: set once the process exited or close began. */
  #gone: string | undefined;
  readonly #exited: Promise<void>;
  #onClosed: (() => void) | undefined;
  /** The core answered `close`: it stopped its tasks itself. */
  #closedCleanly = false;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#gone ??= `the core process (pid ${String(child.pid)}) exited (${signal ?? `code ${String(code)}`})`;
        const err = new ChurnError('UNAVAILABLE', `builtin driver: ${this.#gone}`);
        for (const pending of this.#pending.values()) pending.reject(err);
        this.#pending.clear();
        resolve();
      });
    });
    child.on('message', (message: FromCore) => this.#receive(message));
    // A send to a process that just died: its exit fails the calls.
    child.on('error', () => undefined);
  }

  /**
   * True once the process has exited without closing the core (killed, crashed): the tasks it
   * ran may still be running, and only a core reopened on its state directory stops them.
   */
  get lost(): boolean {
    const exited = this.#child.exitCode !== null || this.#child.signalCode !== null;
    return exited && !this.#closedCleanly;
  }

  /** The core process's pid. */
  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /**
   * Starts a core process and opens the core in it; rejects with the core's own error (e.g.
   * FAILED_PRECONDITION for a state directory in use) or UNAVAILABLE if the process dies.
   */
  static async start(options: CoreOpenOptions): Promise<CoreProcess> {
    const { path, execArgv } = entry();
    const child = fork(path, [], {
      serialization: 'json',
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const core = new CoreProcess(child);
    const opened = new Promise<void>((resolve, reject) => {
      const onMessage = (message: FromCore): void => {
        if (message.type === 'opened') resolve();
        else if (message.type === 'open-failed') reject(errorOf(message.error, 'core open'));
        else return;
        child.off('message', onMessage);
      };
      child.on('message', onMessage);
      void core.#exited.then(() =>
        reject(
          new ChurnError(
            'UNAVAILABLE',
            `builtin driver: ${core.#gone ?? 'the core process exited'}`,
          ),
        ),
      );
    });
    core.#send({ type: 'open', options });
    try {
      await opened;
    } catch (err) {
      child.kill('SIGKILL');
      await core.#exited;
      throw err;
    }
    return core;
  }

  /** Calls `method` in the core; see the module comment for cancelling. */
  call<M extends CoreMethod>(
    method: M,
    args: CoreArgs<M>,
    signal?: AbortSignal,
  ): Promise<CoreResult<M>> {
    if (this.#gone !== undefined)
      return Promise.reject(new ChurnError('UNAVAILABLE', `builtin driver: ${this.#gone}`));
    // Sent anyway, the call would run in the core while its caller was told it was cancelled.
    if (signal?.aborted === true)
      return Promise.reject(new ChurnError('CANCELLED', `builtin driver: ${method} cancelled`));
    const id = this.#nextId++;
    return new Promise<CoreResult<M>>((resolve, reject) => {
      const stopWatching =
        signal === undefined
          ? undefined
          : onAbort(signal, () => {
              this.#pending.delete(id);
              this.#send({ type: 'cancel', id });
              const reason: unknown = signal.reason;
              const why = reason instanceof Error ? `: ${reason.message}` : '';
              reject(new ChurnError('CANCELLED', `builtin driver: ${method} cancelled${why}`));
            });
      this.#pending.set(id, {
        resolve: (value) => {
          stopWatching?.();
          resolve(value as CoreResult<M>);
        },
        reject: (err) => {
          stopWatching?.();
          reject(err);
        },
      });
      this.#send({ type: 'call', id, method, args: encodeValue(args) as unknown[] });
    });
  }

  /** Closes the core (every task stopped, a temporary state directory removed) and ends the process. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#gone ??= 'the core is closed';
    const closed = new Promise<void>((resolve) => {
      this.#onClosed = resolve;
    });
    this.#send({ type: 'close' });
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), closeTimeoutMs);
    try {
      await Promise.race([closed.then(() => this.#exited), this.#exited]);
    } finally {
      clearTimeout(timer);
    }
  }

  #send(message: ToCore): void {
    if (this.#child.connected) this.#child.send(message);
  }

  #receive(message: FromCore): void {
    switch (message.type) {
      case 'result':
      case 'error': {
        const pending = this.#pending.get(message.id);
        if (pending === undefined) return; // cancelled: the answer is dropped
        this.#pending.delete(message.id);
        if (message.type === 'result') pending.resolve(decodeValue(message.value));
        else pending.reject(errorOf(message.error, 'builtin driver'));
        break;
      }
      case 'closed':
        this.#closedCleanly = true;
        this.#onClosed?.();
        break;
      case 'opened':
      case 'open-failed':
        break;
    }
  }
}
