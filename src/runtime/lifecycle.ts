/**
 * The lifecycle of pods and containers, and the one place that decides which calls are legal.
 *
 * Containers:
 *
 *                 create                   start                  the process exits
 *   (none) ─────────────────▶ CREATED ─────────────▶ RUNNING ─────────────────────────▶ EXITED
 *                               │  ▲                   │    stop: SIGTERM, grace, SIGKILL   │
 *                               │  └ stop: no-op       │                                    │
 *                               │                      │ remove: SIGKILL, then removed      │
 *                               │ remove               │ (CRI: "forcibly removed")          │ remove
 *                               ▼                      ▼                                    ▼
 *                           (removed)              (removed)                            (removed)
 *
 *   start from RUNNING or EXITED, or in a pod that is not READY: refused.
 *   exec, attach or reopening the log outside RUNNING: refused. stop of a CREATED or EXITED container: no-op.
 *
 * Pods:
 *
 *            run                    stop (stops every container, SIGKILL)
 *   (none) ───────▶ READY ──────────────────────────────────────────────▶ NOTREADY
 *                     │                                                      │
 *                     └──────────── remove (stops, then removes every container)
 *                                                  ▼
 *                                              (removed)
 *
 *   create in a NOTREADY pod: refused. (name, uid, namespace, attempt) unique among pods;
 *   (name, attempt) unique among a pod's containers.
 *
 * Stop and remove of an unknown id succeed, as current CRI requires ("idempotent"). Removing a
 * running container kills it first in both modes: CRI's RemoveContainer says it "must be forcibly
 * removed", critest checks it, and containerd does it.
 *
 * Which code a refused call gets depends on {@link Compat}. `strict` (the default) gives the
 * specific codes CRI means: FAILED_PRECONDITION for a call illegal in the current state,
 * ALREADY_EXISTS for a duplicate. `containerd` reproduces what containerd 1.6 (Debian 12's
 * containerd 1.6.20, whose CRI plugin was read for this) answers, so churn serve and containerd
 * can be compared call for call: containerd builds most of these errors with plain
 * `errors.New`/`fmt.Errorf`, which its gRPC layer turns into UNKNOWN; it answers
 * NOT_FOUND to stopping an unknown container or pod (only RemoveContainer/RemovePodSandbox are
 * idempotent there); and a stopped pod has no sandbox task, so creating in it is NOT_FOUND.
 */
import { ChurnError, type RuntimeErrorCode } from '../common/errors.js';
import type { Container, PodSandbox } from './types.js';

/** Which runtime's answers to illegal calls the core reproduces; see the module comment. */
export type Compat = 'strict' | 'containerd';

/** The rules a call can break. */
export type Violation =
  | 'start-not-created'
  | 'start-pod-not-ready'
  | 'create-pod-not-ready'
  | 'exec-not-running'
  | 'attach-not-running'
  | 'reopen-log-not-running'
  | 'ambiguous-id'
  | 'duplicate-pod'
  | 'duplicate-container'
  | 'stop-unknown-container'
  | 'stop-unknown-pod';

/** The code each violation gets under each compat mode; `null`: the call succeeds. */
const codes: Readonly<Record<Violation, Readonly<Record<Compat, RuntimeErrorCode | null>>>> = {
  'start-not-created': { strict: 'FAILED_PRECONDITION', containerd: 'UNKNOWN' },
  'start-pod-not-ready': { strict: 'FAILED_PRECONDITION', containerd: 'UNKNOWN' },
  'create-pod-not-ready': { strict: 'FAILED_PRECONDITION', containerd: 'NOT_FOUND' },
  'exec-not-running': { strict: 'FAILED_PRECONDITION', containerd: 'UNKNOWN' },
  'attach-not-running': { strict: 'FAILED_PRECONDITION', containerd: 'UNKNOWN' },
  'reopen-log-not-running': { strict: 'FAILED_PRECONDITION', containerd: 'UNKNOWN' },
  'ambiguous-id': { strict: 'INVALID_ARGUMENT', containerd: 'UNKNOWN' },
  'duplicate-pod': { strict: 'ALREADY_EXISTS', containerd: 'UNKNOWN' },
  'duplicate-container': { strict: 'ALREADY_EXISTS', containerd: 'UNKNOWN' },
  'stop-unknown-container': { strict: null, containerd: 'NOT_FOUND' },
  'stop-unknown-pod': { strict: null, containerd: 'NOT_FOUND' },
};

/** The code `violation` gets under `compat`, or null when the call is to succeed anyway. */
export function violationCode(violation: Violation, compat: Compat): RuntimeErrorCode | null {
  return codes[violation][compat];
}

/** Throws the error for `violation` under `compat`; returns when the call is to go on. */
export function refuse(violation: Violation, compat: Compat, message: string): void {
  const code = violationCode(violation, compat);
  if (code !== null) throw new ChurnError(code, message);
}

/** Throws unless `container` in `pod` may be started. */
export function checkStart(container: Container, pod: PodSandbox, compat: Compat): void {
  if (container.state !== 'CREATED') {
    refuse(
      'start-not-created',
      compat,
      `container "${container.id}": cannot start from state ${container.state}`,
    );
  }
  if (pod.state !== 'READY') {
    refuse(
      'start-pod-not-ready',
      compat,
      `container "${container.id}": cannot start in pod "${pod.id}" in state ${pod.state}`,
    );
  }
}

/** Throws unless a container may be created in `pod`. */
export function checkCreate(pod: PodSandbox, compat: Compat): void {
  if (pod.state !== 'READY') {
    refuse(
      'create-pod-not-ready',
      compat,
      `pod "${pod.id}": cannot create a container in state ${pod.state}`,
    );
  }
}

/**
 * What removing `container` takes: `remove` at once, or `kill-first` for a running one (or one
 * whose task state is unknown), which CRI removes by force.
 */
export function checkRemove(container: Container): 'remove' | 'kill-first' {
  return container.state === 'RUNNING' || container.state === 'UNKNOWN' ? 'kill-first' : 'remove';
}

/** Throws unless a command may be executed in `container`. */
export function checkExec(container: Container, compat: Compat): void {
  if (container.state !== 'RUNNING') {
    refuse(
      'exec-not-running',
      compat,
      `container "${container.id}": cannot exec in state ${container.state}`,
    );
  }
}

/** Attach (CRI Attach) needs a RUNNING container, as exec does. */
export function checkAttach(container: Container, compat: Compat): void {
  if (container.state !== 'RUNNING') {
    refuse(
      'attach-not-running',
      compat,
      `container "${container.id}": cannot attach in state ${container.state}`,
    );
  }
}

/** ReopenContainerLog needs a RUNNING container (containerd: "container is not running"). */
export function checkReopenLog(container: Container, compat: Compat): void {
  if (container.state !== 'RUNNING') {
    refuse(
      'reopen-log-not-running',
      compat,
      `container "${container.id}": cannot reopen the log in state ${container.state}`,
    );
  }
}

/** Reason recorded for an exit: as containerd, Completed for 0, Error otherwise. */
export function exitReason(exitCode: number): string {
  return exitCode === 0 ? 'Completed' : 'Error';
}

/** Exit code containerd records when a task's real exit status is lost (core restarted). */
export const unknownExitCode = 255;
