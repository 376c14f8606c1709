/**
 * The one place a {@link Driver} is built from a scenario's `target`: `builtin` (the core
 * in a process of its own), `cri` (a CRI runtime over gRPC) or `containerd` (containerd's own API). Drivers are chosen here explicitly, never
 * registered on import.
 *
 * Each driver's module is imported only when a target picks it: the cri and containerd drivers
 * bring gRPC, proto-loader and the CRI client with them, which a builtin run never uses and
 * which would otherwise be loaded (and their CPU spent) at every start of churn.
 */
import { ChurnError } from '../common/errors.js';
import { coreIdentity, readHostAccounts, taskUserPolicy } from '../runtime/executors/task-user.js';
import type { RuntimeFaults } from '../runtime/faults.js';
import type { Compat } from '../runtime/lifecycle.js';
import type { Driver, DriverKind } from './driver.js';

/**
 * Where and how to reach the runtime: structurally the scenario's resolved `target`, so
 * `createDriver(scenario.target, …)` works as is.
 */
export interface DriverTarget {
  readonly driver: DriverKind;
  /** CRI endpoint (cri only). */
  readonly endpoint: string;
  /** Runtime handler for RunPodSandbox ('' for the runtime's default). */
  readonly runtimeHandler: string;
  /** Deadline of each runtime call, in milliseconds (cri only). */
  readonly callTimeout: number;
  /** Executor of the builtin core. */
  readonly executor: 'process' | 'runc';
  /** Who the builtin core's process tasks run as when they name no user (task-user.ts). */
  readonly taskUser?: string | undefined;
  /** State directory of the builtin core; a temporary one, removed on close, when absent. */
  readonly stateDir?: string | undefined;
  /** Directory of OCI image archives the builtin core pulls from. */
  readonly images?: string | undefined;
  /** containerd's socket (containerd only). */
  readonly address?: string | undefined;
  /** containerd namespace (containerd only). */
  readonly namespace?: string | undefined;
  /** Snapshotter (containerd only). */
  readonly snapshotter?: string | undefined;
}

/** What else a driver is built with. */
export interface CreateDriverOptions {
  /** Fault injection per operation (builtin only: a CRI runtime injects its own). */
  readonly faults?: RuntimeFaults;
  /** Seed of fault injection. */
  readonly seed?: number | undefined;
  /** Error compat mode of the builtin core (default `strict`). */
  readonly compat?: Compat;
  /**
   * Builtin without a state directory: this temporary one (made by makeTemporaryStateDir, so
   * the caller can name it), removed when the driver closes.
   */
  readonly temporaryStateDir?: string;
}

/**
 * Builds the driver `target` names, importing its module; nothing connects until `connect()`.
 * Rejects with USAGE for faults with the cri driver and ENDPOINT_INVALID for a malformed or
 * off-machine endpoint.
 */
export async function createDriver(
  target: DriverTarget,
  options: CreateDriverOptions = {},
): Promise<Driver> {
  switch (target.driver) {
    case 'builtin': {
      checkDriverTarget(target);
      const { BuiltinDriver } = await import('./builtin.js');
      return new BuiltinDriver({
        stateDir: target.stateDir ?? options.temporaryStateDir,
        stateDirIsTemporary:
          target.stateDir === undefined && options.temporaryStateDir !== undefined,
        executor: target.executor,
        ...(target.taskUser === undefined ? {} : { taskUser: target.taskUser }),
        imagesDir: target.images,
        runtimeHandler: target.runtimeHandler,
        faults: options.faults,
        seed: options.seed,
        compat: options.compat,
      });
    }
    case 'containerd': {
      if (options.faults !== undefined && Object.keys(options.faults).length > 0) {
        throw new ChurnError(
          'USAGE',
          'faults are injected by the builtin driver only, not with driver containerd',
        );
      }
      const { ContainerdDriver } = await import('./containerd.js');
      return new ContainerdDriver({
        address: target.address ?? '/run/containerd/containerd.sock',
        namespace: target.namespace ?? 'churn-native',
        snapshotter: target.snapshotter ?? 'overlayfs',
        runtime: 'io.containerd.runc.v2',
        callTimeoutMs: target.callTimeout,
      });
    }
    case 'cri': {
      if (options.faults !== undefined && Object.keys(options.faults).length > 0) {
        throw new ChurnError(
          'USAGE',
          'faults are injected by the builtin driver only; with driver cri, give churn serve its --faults option',
        );
      }
      const { CriDriver } = await import('./cri.js');
      return new CriDriver({
        endpoint: target.endpoint,
        runtimeHandler: target.runtimeHandler,
        callTimeoutMs: target.callTimeout,
      });
    }
  }
}

/**
 * Checks what of `target` depends on this host before anything starts: the builtin core's task
 * user must name a user of the host, and one this process may change to (task-user.ts). USAGE
 * naming target.taskUser otherwise.
 */
export function checkDriverTarget(target: DriverTarget): void {
  if (target.driver !== 'builtin' || target.taskUser === undefined) return;
  try {
    taskUserPolicy(target.taskUser, coreIdentity(), readHostAccounts);
  } catch (err) {
    throw new ChurnError('USAGE', `target.taskUser ${(err as Error).message}`, { cause: err });
  }
}
