/**
 * What the `builtin` and `cri` drivers map the same way from the harness's specs: a pod's
 * namespaces, a container's environment and ExecSync's output. Each driver then shapes them
 * into its own runtime's config types.
 */
import type { ContainerSpec, ExecOutcome, PodSpec } from './driver.js';

/** A pod's namespace modes, in CRI's names. */
export interface PodNamespaces {
  readonly network: 'NODE' | 'POD';
  readonly pid: 'CONTAINER';
  readonly ipc: 'POD';
}

/**
 * The namespaces of `pod` as kubelet sets them: the host's network when `hostNetwork` (no CNI,
 * no traffic off the machine), else the pod's own; a pid namespace per container; IPC per pod.
 */
export function podNamespaces(pod: PodSpec): PodNamespaces {
  return { network: pod.hostNetwork ? 'NODE' : 'POD', pid: 'CONTAINER', ipc: 'POD' };
}

/** `spec`'s environment as CRI's list of key-value pairs, in the spec's key order. */
export function envPairs(spec: ContainerSpec): { key: string; value: string }[] {
  return Object.entries(spec.env).map(([key, value]) => ({ key, value }));
}

/** ExecSync's result with its output decoded as UTF-8. */
export function execOutcomeOf(result: {
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}): ExecOutcome {
  return {
    exitCode: result.exitCode,
    stdout: result.stdout.toString('utf8'),
    stderr: result.stderr.toString('utf8'),
  };
}
