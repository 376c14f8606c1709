/**
 * The stock crictl (cri-tools v1.26.1, grpc-go: what a node runs), decompressed by
 * cri-tools.ts (same source and skip rules as critest), and a runner for it.
 */
import { spawn } from 'node:child_process';
import { decompressCriTools } from './cri-tools.js';

/** The decompressed crictl, or why there is none. */
export interface StockCrictl {
  readonly skipReason: string | undefined;
  /** Path of the binary ('' when skipped). */
  readonly path: string;
  /** Removes its temp dir. */
  release(): Promise<void>;
}

/** Decompresses crictl into a temp dir (cri-tools.ts: where from, when it skips). */
export async function stockCrictl(): Promise<StockCrictl> {
  const tools = await decompressCriTools(['crictl']);
  return { skipReason: tools.skipReason, path: tools.paths.crictl, release: tools.release };
}

/** What one crictl run gave. */
export interface CrictlResult {
  /** Exit code, or 128 + 9 when killed at the timeout. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link runCrictl}. */
export interface RunCrictlOptions {
  /** Written to its stdin, which is then closed (default: stdin closed at once). */
  readonly input?: string;
  /** SIGKILLed after this long (default 30 s). */
  readonly timeoutMs?: number;
}

/**
 * Runs `crictl ARGS` against `endpoint` (runtime and image service, 10 s call timeout) and
 * resolves when it exits.
 */
export function runCrictl(
  crictl: string,
  endpoint: string,
  args: readonly string[],
  options: RunCrictlOptions = {},
): Promise<CrictlResult> {
  const child = spawn(crictl, [...crictlFlags(endpoint), ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + 9, stdout, stderr });
    });
  });
}

/** The global flags pointing crictl at `endpoint` (no config file is read). */
export function crictlFlags(endpoint: string): string[] {
  return [
    '--config',
    '/dev/null',
    '--runtime-endpoint',
    endpoint,
    '--image-endpoint',
    endpoint,
    '--timeout',
    '10s',
  ];
}
