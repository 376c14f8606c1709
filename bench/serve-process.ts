/** `churn serve` in its own process, for the benchmarks that measure it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Spawns `churn serve` (from src, through tsx) and resolves once it listens. */
export async function spawnServe(
  dir: string,
  extra: readonly string[],
): Promise<{ child: ChildProcess; endpoint: string }> {
  const socket = join(dir, 'churn.sock');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'src/cli/main.ts'),
      'serve',
      '--socket',
      socket,
      '--state-dir',
      join(dir, 'state'),
      ...extra,
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('listening on')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) =>
      reject(new Error(`churn serve exited with ${String(code)}: ${output.trim()}`)),
    );
  });
  return { child, endpoint: `unix://${socket}` };
}

/** SIGTERMs `child` and waits for its exit. */
export async function stopServe(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
