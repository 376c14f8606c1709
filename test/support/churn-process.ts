// Runs the built CLI (dist/, built by the integration/e2e globalSetup) as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

/** Path of the built CLI. */
export const churnBin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** A running `churn` child and what it has printed so far. */
export interface ChurnProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or 128 + signal number when killed by a signal). */
  readonly exited: Promise<number>;
}

/** Options of {@link startChurn}. */
export interface StartChurnOptions {
  /** Variables set in the child's environment on top of the test's own. */
  readonly env?: Readonly<Record<string, string>>;
  /** A command churn runs under, e.g. `['unshare', '--user']` to run without root. */
  readonly runUnder?: readonly string[];
  /**
   * Runs churn in a process group of its own, so a signal can be sent to the whole group as a
   * terminal's Ctrl-C is (`process.kill(-pid, 'SIGINT')`). Default false.
   */
  readonly ownProcessGroup?: boolean;
}

/**
 * Starts `churn ...args` in `cwd`; killed (SIGKILL) and waited for when the test finishes if
 * still running.
 */
export function startChurn(
  args: readonly string[],
  cwd: string,
  options: StartChurnOptions = {},
): ChurnProcess {
  const argv = [...(options.runUnder ?? []), process.execPath, churnBin, ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0', ...options.env },
    detached: options.ownProcessGroup ?? false,
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
    });
  });
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/**
 * Starts `churn serve ...args` in `cwd` and resolves once it says it listens, or has exited
 * (refused to start), or `timeoutMs` passed. When the test finishes it is stopped with
 * SIGTERM, so it stops its tasks (a SIGKILLed server would orphan them), and SIGKILLed if it
 * has not exited 10 s later.
 */
export async function startServe(
  args: readonly string[],
  cwd: string,
  timeoutMs = 20_000,
  options: StartChurnOptions = {},
): Promise<ChurnProcess> {
  const p = startChurn(['serve', ...args], cwd, options);
  // Registered after startChurn's SIGKILL, so it runs before it.
  onTestFinished(async () => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([p.exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
  });
  const deadline = Date.now() + timeoutMs;
  while (!p.stdout().includes('listening on') && Date.now() < deadline) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return p;
}

/** Runs `churn ...args` to the end; returns exit code and output. */
export async function runChurn(
  args: readonly string[],
  cwd: string,
  options: StartChurnOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = startChurn(args, cwd, options);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}
