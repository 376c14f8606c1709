/**
 * The core process: the built-in core served to the `builtin` driver over the IPC channel
 * of core-process.ts (protocol in core-process-protocol.ts). Its spawning, reaping, /proc
 * scans, journal writes and image unpacking run on this process's event loop, never on the
 * harness's, so a busy core shows as the runtime's latency and not as a stalled harness.
 *
 * Lifetime: the driver's `close` closes the core (every task stopped) and, for a temporary
 * state directory, removes it. When the harness dies without closing (kill -9), the channel
 * disconnects and the core does the same on its own, so no task process or temp directory of
 * a killed run is left. SIGINT, SIGTERM and SIGHUP are ignored: a Ctrl-C reaches the whole
 * process group, and the harness still needs its core to drain and clean up.
 */
import { rm } from 'node:fs/promises';
import { isChurnError } from '../common/errors.js';
import { RuntimeService } from '../runtime/service.js';
import { decodeValue, encodeValue } from './core-process-codec.js';
import {
  coreMethods,
  type CoreOpenOptions,
  type FromCore,
  type ToCore,
  type WireError,
} from './core-process-protocol.js';

let core: RuntimeService | undefined;
let options: CoreOpenOptions | undefined;
let closing: Promise<void> | undefined;
/** Abort controllers of calls that listen for a cancel (stops). */
const cancellable = new Map<number, AbortController>();

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);

process.on('message', (message: ToCore) => {
  switch (message.type) {
    case 'open':
      void open(message.options);
      break;
    case 'call':
      void call(message.id, message.method, decodeValue(message.args) as unknown[]);
      break;
    case 'cancel':
      cancellable.get(message.id)?.abort(new Error('cancelled by the harness'));
      break;
    case 'close':
      void shutDown().then(() => {
        send({ type: 'closed' });
        process.disconnect();
      });
      break;
  }
});
// A send that races the harness's death fails (EPIPE) with an 'error' event: left unheard it
// would kill this process before it stops its tasks. The channel's disconnect follows.
process.on('error', () => undefined);
// The harness went away (closed the channel, or died): close the core and leave nothing.
process.on('disconnect', () => {
  void shutDown().then(() => process.exit(0));
});

function send(message: FromCore): void {
  if (process.connected) process.send?.(message);
}

function wireError(err: unknown): WireError {
  if (isChurnError(err)) return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

async function open(given: CoreOpenOptions): Promise<void> {
  options = given;
  try {
    const { removeStateDir: _removeStateDir, ...serviceOptions } = given;
    core = await RuntimeService.open({
      ...serviceOptions,
      // A temporary state directory goes with the run: syncing it would buy nothing.
      durable: serviceOptions.durable ?? !given.removeStateDir,
      log: (message) => process.stderr.write(`churn core: ${message}\n`),
    });
    send({ type: 'opened', pid: process.pid });
  } catch (err) {
    if (given.removeStateDir) await rm(given.stateDir, { recursive: true, force: true });
    send({ type: 'open-failed', error: wireError(err) });
  }
}

async function call(id: number, method: string, args: readonly unknown[]): Promise<void> {
  try {
    if (core === undefined) throw new Error(`${method} before the core opened`);
    if (!coreMethods.has(method)) throw new Error(`unknown core method "${method}"`);
    let value: unknown;
    if (method === 'stopContainer') {
      const abort = new AbortController();
      cancellable.set(id, abort);
      try {
        value = await core.stopContainer(args[0] as string, args[1] as number, abort.signal);
      } finally {
        cancellable.delete(id);
      }
    } else {
      const fn = (core as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method];
      value = await fn!.apply(core, args as unknown[]);
    }
    send({ type: 'result', id, value: encodeValue(value) });
  } catch (err) {
    send({ type: 'error', id, error: wireError(err) });
  }
}

function shutDown(): Promise<void> {
  closing ??= (async () => {
    for (const abort of cancellable.values()) abort.abort(new Error('the core is closing'));
    await core?.close().catch(() => undefined);
    if (options?.removeStateDir === true)
      await rm(options.stateDir, { recursive: true, force: true });
  })();
  return closing;
}
