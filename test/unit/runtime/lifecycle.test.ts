import { describe, expect, it } from 'vitest';
import { isChurnError } from '../../../src/common/errors.js';
import {
  checkCreate,
  checkAttach,
  checkExec,
  checkRemove,
  checkStart,
  exitReason,
  violationCode,
  type Violation,
} from '../../../src/runtime/lifecycle.js';
import type {
  Container,
  ContainerState,
  PodSandbox,
  PodState,
} from '../../../src/runtime/types.js';

function container(state: ContainerState): Container {
  return {
    id: 'c1',
    podId: 'p1',
    config: {
      metadata: { name: 'c', attempt: 0 },
      image: 'host',
      command: [],
      args: [],
      workingDir: '',
      envs: [],
      labels: {},
      annotations: {},
      logPath: '',
    },
    imageRef: 'sha256:x',
    state,
    createdAtNs: 1n,
    startedAtNs: 0n,
    finishedAtNs: 0n,
    exitCode: 0,
    reason: '',
    message: '',
    pid: 0,
    logPathAbs: '',
  };
}

function pod(state: PodState): PodSandbox {
  return {
    id: 'p1',
    state,
    createdAtNs: 1n,
    runtimeHandler: '',
    config: {
      metadata: { name: 'p', uid: 'u', namespace: 'n', attempt: 0 },
      hostname: '',
      logDirectory: '',
      labels: {},
      annotations: {},
      networkMode: 'NODE',
      pidMode: 'CONTAINER',
      ipcMode: 'POD',
    },
  };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (!isChurnError(err)) throw err;
    return err.code;
  }
}

describe('lifecycle rules', () => {
  it.each([
    ['CREATED', 'READY', undefined],
    ['RUNNING', 'READY', 'FAILED_PRECONDITION'],
    ['EXITED', 'READY', 'FAILED_PRECONDITION'],
    ['CREATED', 'NOTREADY', 'FAILED_PRECONDITION'],
  ] as const)('start of a %s container in a %s pod → %s', (cState, pState, code) => {
    expect(codeOf(() => checkStart(container(cState), pod(pState), 'strict'))).toBe(code);
  });

  it.each([
    ['CREATED', 'remove'],
    ['EXITED', 'remove'],
    ['RUNNING', 'kill-first'],
    ['UNKNOWN', 'kill-first'],
  ] as const)(
    'remove of a %s container → %s (CRI: a running one is removed by force)',
    (state, plan) => {
      expect(checkRemove(container(state))).toBe(plan);
    },
  );

  it('refuses create in a pod that is not ready, and exec outside RUNNING', () => {
    expect(codeOf(() => checkCreate(pod('NOTREADY'), 'strict'))).toBe('FAILED_PRECONDITION');
    expect(codeOf(() => checkCreate(pod('NOTREADY'), 'containerd'))).toBe('NOT_FOUND');
    expect(codeOf(() => checkCreate(pod('READY'), 'strict'))).toBeUndefined();
    expect(codeOf(() => checkExec(container('CREATED'), 'strict'))).toBe('FAILED_PRECONDITION');
    expect(codeOf(() => checkExec(container('RUNNING'), 'strict'))).toBeUndefined();
    expect(codeOf(() => checkAttach(container('EXITED'), 'strict'))).toBe('FAILED_PRECONDITION');
    expect(codeOf(() => checkAttach(container('EXITED'), 'containerd'))).toBe('UNKNOWN');
    expect(codeOf(() => checkAttach(container('RUNNING'), 'strict'))).toBeUndefined();
  });

  it('has a code (or an explicit success) for every violation in every mode', () => {
    const violations: Violation[] = [
      'start-not-created',
      'start-pod-not-ready',
      'create-pod-not-ready',
      'exec-not-running',
      'attach-not-running',
      'reopen-log-not-running',
      'ambiguous-id',
      'duplicate-pod',
      'duplicate-container',
      'stop-unknown-container',
      'stop-unknown-pod',
    ];
    const table = violations.map((v) => [
      v,
      violationCode(v, 'strict'),
      violationCode(v, 'containerd'),
    ]);
    expect(table).toEqual([
      ['start-not-created', 'FAILED_PRECONDITION', 'UNKNOWN'],
      ['start-pod-not-ready', 'FAILED_PRECONDITION', 'UNKNOWN'],
      ['create-pod-not-ready', 'FAILED_PRECONDITION', 'NOT_FOUND'],
      ['exec-not-running', 'FAILED_PRECONDITION', 'UNKNOWN'],
      ['attach-not-running', 'FAILED_PRECONDITION', 'UNKNOWN'],
      ['reopen-log-not-running', 'FAILED_PRECONDITION', 'UNKNOWN'],
      ['ambiguous-id', 'INVALID_ARGUMENT', 'UNKNOWN'],
      ['duplicate-pod', 'ALREADY_EXISTS', 'UNKNOWN'],
      ['duplicate-container', 'ALREADY_EXISTS', 'UNKNOWN'],
      ['stop-unknown-container', null, 'NOT_FOUND'],
      ['stop-unknown-pod', null, 'NOT_FOUND'],
    ]);
  });

  it('names exit reasons as containerd', () => {
    expect(exitReason(0)).toBe('Completed');
    expect(exitReason(137)).toBe('Error');
  });
});
