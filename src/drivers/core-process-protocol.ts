/**
 * The messages between the `builtin` driver and the core process it starts
 * (core-process.ts ↔ core-process-main.ts), over Node's IPC channel as JSON; bigint
 * timestamps and exec output cross tagged (core-process-codec.ts).
 *
 * One `open` first; then calls, each answered once by id. A `cancel` names a call the driver
 * no longer waits for: only a stop's grace period listens (as over CRI). Errors cross as their
 * code and message, never as objects, so a ChurnError is rebuilt with the same stable code.
 */
import type { RuntimeApi } from '../runtime/api.js';
import type { RuntimeServiceOptions } from '../runtime/options.js';

/** The core's methods the driver calls across the process boundary. */
export type CoreMethod =
  | 'version'
  | 'pullImage'
  | 'runPodSandbox'
  | 'stopPodSandbox'
  | 'removePodSandbox'
  | 'createContainer'
  | 'startContainer'
  | 'stopContainer'
  | 'removeContainer'
  | 'containerStatus'
  | 'listContainers'
  | 'listPodSandbox'
  | 'execSync';

/** Arguments of a method as they cross (a stop's AbortSignal stays behind: see `cancel`). */
export type CoreArgs<M extends CoreMethod> = M extends 'stopContainer'
  ? [containerId: string, timeoutSec: number]
  : Parameters<RuntimeApi[M]>;

/** What a method resolves to. */
export type CoreResult<M extends CoreMethod> = Awaited<ReturnType<RuntimeApi[M]>>;

/** What the core is opened with: the core's options less its clock (the child has its own). */
export type CoreOpenOptions = Omit<RuntimeServiceOptions, 'clock' | 'log'> & {
  /** Remove the state directory when the core closes or its parent goes away. */
  readonly removeStateDir: boolean;
};

/** Driver → core. */
export type ToCore =
  | { readonly type: 'open'; readonly options: CoreOpenOptions }
  | {
      readonly type: 'call';
      readonly id: number;
      readonly method: CoreMethod;
      readonly args: readonly unknown[];
    }
  | { readonly type: 'cancel'; readonly id: number }
  | { readonly type: 'close' };

/** An error as it crosses: its ChurnError code (or INTERNAL) and message. */
export interface WireError {
  readonly code: string;
  readonly message: string;
}

/** Core → driver. */
export type FromCore =
  | { readonly type: 'opened'; readonly pid: number }
  | { readonly type: 'open-failed'; readonly error: WireError }
  | { readonly type: 'result'; readonly id: number; readonly value: unknown }
  | { readonly type: 'error'; readonly id: number; readonly error: WireError }
  | { readonly type: 'closed' };

/** Every method a `call` may name, for validation on the core's side. */
export const coreMethods: ReadonlySet<string> = new Set<CoreMethod>([
  'version',
  'pullImage',
  'runPodSandbox',
  'stopPodSandbox',
  'removePodSandbox',
  'createContainer',
  'startContainer',
  'stopContainer',
  'removeContainer',
  'containerStatus',
  'listContainers',
  'listPodSandbox',
  'execSync',
]);
