/** Options of the built-in core, resolved once into {@link ResolvedRuntimeServiceOptions}. */
import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import { systemClock, type Clock } from '../common/clock.js';
import { ChurnError } from '../common/errors.js';
import type { ExecutorName } from './executors/executor.js';
import {
  coreIdentity,
  readHostAccounts,
  taskUserPolicy,
  type TaskUserPolicy,
} from './executors/task-user.js';
import type { RuntimeFaults } from './faults.js';
import type { Compat } from './lifecycle.js';

/** What the core is opened with. */
export interface RuntimeServiceOptions {
  /** Directory of the core's persisted state (created when missing). Required. */
  readonly stateDir: string;
  /** Executor of pods whose runtime handler is '' (default `process`). */
  readonly executor?: ExecutorName;
  /** Directory of OCI image-layout archives that pullImage resolves from. Default: none. */
  readonly imagesDir?: string;
  /** Fault injection per operation. Default: none. */
  readonly faults?: RuntimeFaults;
  /** Seed of fault injection. Default: random. */
  readonly seed?: number;
  /** Clock for delays and timeouts. Default: the system clock. */
  readonly clock?: Clock;
  /** Which runtime's answers to illegal calls to reproduce (see lifecycle.ts). Default `strict`. */
  readonly compat?: Compat;
  /**
   * fdatasync every state mutation before acknowledging it (group commit; see
   * state-journal.ts): what the core acknowledged survives power loss too. Default true.
   */
  readonly durable?: boolean;
  /** Where the core reports failures no caller hears of (a state write that failed). Default: none. */
  readonly log?: (message: string) => void;
  /** runc binary for the `runc` executor. Default `runc` from PATH. */
  readonly runcPath?: string;
  /**
   * Who the process executor's tasks that name no user run as: `UID[:GID]` or `NAME[:GROUP]`
   * of the host (executors/task-user.ts). Default: nobody (65534:65534) when the core runs as
   * root, else the core's own user; `0` runs them (and allows tasks that ask for it) as root.
   */
  readonly taskUser?: string;
  /**
   * Default true: the process executor runs tasks under a supervisor of their own instead of
   * as children of the core (executors/task-supervisor.ts), so a task's exit no longer costs
   * O(live tasks). False spawns every task as a child of the core.
   */
  readonly supervisedTasks?: boolean;
}

/** Options with every default filled in. */
export interface ResolvedRuntimeServiceOptions {
  readonly stateDir: string;
  readonly executor: ExecutorName;
  readonly imagesDir: string | undefined;
  readonly faults: RuntimeFaults;
  readonly seed: number;
  readonly clock: Clock;
  readonly compat: Compat;
  readonly durable: boolean;
  readonly log: (message: string) => void;
  readonly runcPath: string;
  /** Who the process executor's tasks may run as, and run as by default. */
  readonly taskUserPolicy: TaskUserPolicy;
  readonly supervisedTasks: boolean;
}

/** Fills defaults and checks values; throws INVALID_ARGUMENT saying what to use instead. */
export function resolveRuntimeServiceOptions(
  options: RuntimeServiceOptions,
): ResolvedRuntimeServiceOptions {
  if (typeof options.stateDir !== 'string' || options.stateDir === '') {
    throw new ChurnError(
      'INVALID_ARGUMENT',
      'runtime options: stateDir is required (a directory path)',
    );
  }
  // Checked at run time too: options may come from untyped input.
  const executor: string = options.executor ?? 'process';
  if (executor !== 'process' && executor !== 'runc') {
    throw new ChurnError(
      'INVALID_ARGUMENT',
      `runtime options: executor "${executor}": use process or runc`,
    );
  }
  const compat: string = options.compat ?? 'strict';
  if (compat !== 'strict' && compat !== 'containerd') {
    throw new ChurnError(
      'INVALID_ARGUMENT',
      `runtime options: compat "${compat}": use strict or containerd`,
    );
  }
  const seed = options.seed ?? randomInt(0, 2 ** 31 - 1);
  if (!Number.isInteger(seed)) {
    throw new ChurnError('INVALID_ARGUMENT', `runtime options: seed ${seed} is not an integer`);
  }
  let policy: TaskUserPolicy;
  try {
    policy = taskUserPolicy(options.taskUser, coreIdentity(), readHostAccounts);
  } catch (err) {
    throw new ChurnError(
      'INVALID_ARGUMENT',
      `runtime options: taskUser ${(err as Error).message}`,
      { cause: err },
    );
  }
  return {
    stateDir: resolve(options.stateDir),
    executor,
    imagesDir: options.imagesDir === undefined ? undefined : resolve(options.imagesDir),
    faults: options.faults ?? {},
    seed,
    clock: options.clock ?? systemClock,
    compat,
    durable: options.durable ?? true,
    log: options.log ?? (() => undefined),
    runcPath: options.runcPath ?? 'runc',
    taskUserPolicy: policy,
    supervisedTasks: options.supervisedTasks !== false,
  };
}
