/**
 * The stock crictl (cri-tools v1.26.1, grpc-go: what a node runs) from ../shared/tools/cri-tools
 * (or $CHURN_CRI_TOOLS_DIR), decompressed into a temp dir, and a runner for it. Where it cannot
 * run here (not Linux, no tools dir, no xz) the tests using it skip, except in CI (CI=true),
 * where that is a failure. Same source and rules as the critest harness of branch i11-critest
 * (test/support/critest.ts there), which decompresses crictl too: one of the two is to go when
 * both are merged.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where the stock tools are: $CHURN_CRI_TOOLS_DIR, or ../shared/tools/cri-tools of the repo. */
export function criToolsSourceDir(): string {
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  return process.env['CHURN_CRI_TOOLS_DIR'] ?? resolve(repo, '..', 'shared', 'tools', 'cri-tools');
}

/** The decompressed crictl, or why there is none. */
export interface StockCrictl {
  readonly skipReason: string | undefined;
  /** Path of the binary ('' when skipped). */
  readonly path: string;
  /** Removes its temp dir. */
  release(): Promise<void>;
}

/** Decompresses crictl into a temp dir; see the module comment. */
export async function stockCrictl(): Promise<StockCrictl> {
  const source = join(criToolsSourceDir(), 'crictl.xz');
  const unavailable = (reason: string): StockCrictl => {
    if (process.env['CI'] === 'true') throw new Error(`crictl is required in CI but ${reason}`);
    return { skipReason: reason, path: '', release: async () => {} };
  };
  if (process.platform !== 'linux') return unavailable('this is not Linux');
  if (!existsSync(source)) return unavailable(`${source} is missing`);
  const dir = await mkdtemp(join(tmpdir(), 'churn-crictl-'));
  const path = join(dir, 'crictl');
  try {
    await run('sh', ['-c', 'xz -dc "$1" > "$2" && chmod 755 "$2"', 'sh', source, path]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    return unavailable(`it could not be decompressed (xz-utils?): ${(err as Error).message}`);
  }
  return { skipReason: undefined, path, release: () => rm(dir, { recursive: true, force: true }) };
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
