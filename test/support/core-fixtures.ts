// Helpers for tests of the built-in core: temp dirs and cores cleaned up by the test that makes
// them, pod and container configs with defaults, and waiting on /proc.
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, onTestFinished } from 'vitest';
import { isChurnError } from '../../src/common/errors.js';
import type { RuntimeServiceOptions } from '../../src/runtime/options.js';
import { RuntimeService } from '../../src/runtime/service.js';
import type { ContainerConfig, PodSandboxConfig } from '../../src/runtime/types.js';

/** A new temporary directory, removed when the current test (or hook's test) finishes. */
export async function tempDir(prefix = 'churn-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A core opened with `options` (on a new temporary state directory unless they name one),
 * closed when the current test finishes, before its temporary directories are removed.
 */
export async function openCore(
  options: Partial<RuntimeServiceOptions> = {},
): Promise<RuntimeService> {
  const core = await RuntimeService.open({
    ...options,
    stateDir: options.stateDir ?? (await tempDir()),
  });
  onTestFinished(() => core.close());
  return core;
}

let podCounter = 0;

/** A pod config with unique metadata unless `name` is given; host network. */
export function podConfig(
  overrides: Partial<PodSandboxConfig> & { name?: string; attempt?: number } = {},
): PodSandboxConfig {
  const { name, attempt, ...rest } = overrides;
  podCounter += 1;
  return {
    metadata: {
      name: name ?? `pod-${podCounter}`,
      uid: `uid-${name ?? podCounter}`,
      namespace: 'churn-test',
      attempt: attempt ?? 0,
    },
    hostname: 'churn-test',
    logDirectory: '',
    labels: {},
    annotations: {},
    networkMode: 'NODE',
    pidMode: 'CONTAINER',
    ipcMode: 'POD',
    ...rest,
  };
}

/** A container config running `command` in `image` (default: `sleep 3600` in the host image). */
export function containerConfig(
  overrides: Partial<ContainerConfig> & { name?: string } = {},
): ContainerConfig {
  const { name, ...rest } = overrides;
  return {
    metadata: { name: name ?? 'c', attempt: 0 },
    image: 'host',
    command: ['sleep', '3600'],
    args: [],
    workingDir: '',
    envs: [],
    labels: {},
    annotations: {},
    logPath: '',
    ...rest,
  };
}

/** True when `pid` is a live (non-zombie) process. */
export function pidAlive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/stat`)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * Pids of the live (non-zombie) processes, other than this one, whose command line (arguments
 * joined by spaces) contains `marker`: what a test started and expects gone, or still there.
 */
export function processesWithMarker(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSafe('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(marker) && pidAlive(Number(name))) out.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Polls `predicate` every 20 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Creates a container of `containerConfig(extra)` in a new pod of `core`, which must be refused
 * with INVALID_ARGUMENT, leaving no container; resolves with the error.
 */
export async function refusedCreate(
  core: RuntimeService,
  extra: Partial<ContainerConfig>,
): Promise<Error> {
  const pod = podConfig();
  const podId = await core.runPodSandbox(pod, '');
  const err: unknown = await core.createContainer(podId, containerConfig(extra), pod).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isChurnError(err, 'INVALID_ARGUMENT'), String(err)).toBe(true);
  expect(await core.listContainers({ podId })).toEqual([]);
  return err as Error;
}
