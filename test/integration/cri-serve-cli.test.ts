/**
 * `churn serve` as users run it: the built CLI (dist/, built by the global setup) in its own
 * process, driven by the cri driver; SIGTERM stops it gracefully with nothing left behind.
 * Option errors are checked in-process through runCli.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { lstat, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import { isChurnError } from '../../src/common/errors.js';
import { CriDriver } from '../../src/drivers/cri.js';
import type { ContainerSpec, PodSpec } from '../../src/drivers/driver.js';
import { bufferIo } from '../support/cli-io.js';
import { processesWith } from '../support/cri-serve.js';

const mainJs = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'churn-serve-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

interface Served {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** Spawns `churn serve …args` and waits until it says it listens. */
async function spawnServe(args: readonly string[]): Promise<Served> {
  const child = spawn(process.execPath, [mainJs, 'serve', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const deadline = Date.now() + 20_000;
  while (!output.includes('listening on') && Date.now() < deadline) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, exited, output: () => output };
}

const pod = (name: string): PodSpec => ({
  name,
  uid: `uid-${name}`,
  namespace: 'churn-test',
  attempt: 0,
  labels: { 'churn.run': 'cli' },
  annotations: {},
  hostNetwork: true,
  logDirectory: '',
});

const container = (command: readonly string[]): ContainerSpec => ({
  name: 'c',
  attempt: 0,
  image: 'host',
  command,
  args: [],
  workingDir: '',
  env: {},
  labels: { 'churn.run': 'cli' },
  annotations: {},
  logPath: '',
});

describe('churn serve (built CLI)', () => {
  it('serves CRI on a 0600 socket, writes its pid file, and on SIGTERM stops every task and exits 0', async () => {
    const dir = await tempDir();
    const socket = join(dir, 'churn.sock');
    const pidFile = join(dir, 'serve.pid');
    const served = await spawnServe([
      '--socket',
      socket,
      '--state-dir',
      join(dir, 'state'),
      '--pid-file',
      pidFile,
    ]);
    expect(served.output()).toContain(`listening on unix://${socket}`);
    expect(Number((await readFile(pidFile, 'utf8')).trim())).toBe(served.child.pid);
    expect((await lstat(socket)).mode & 0o777).toBe(0o600);

    const driver = new CriDriver({
      endpoint: `unix://${socket}`,
      runtimeHandler: '',
      callTimeoutMs: 10_000,
    });
    onTestFinished(() => driver.close());
    expect((await driver.connect()).runtimeName).toBe('churn-core');
    // One full cycle, then two containers left running for shutdown to stop.
    const p = pod('full');
    const podId = await driver.runPod(p);
    const id = await driver.createContainer(podId, p, container(['sleep', '3600']));
    await driver.startContainer(id);
    await driver.stopContainer(id, 0);
    await driver.removeContainer(id);
    await driver.stopPod(podId);
    await driver.removePod(podId);
    const marker = `churn-serve-cli-${process.pid}-${Date.now()}`;
    for (const name of ['left-1', 'left-2']) {
      const spec = pod(name);
      const leftPod = await driver.runPod(spec);
      await driver.startContainer(
        await driver.createContainer(
          leftPod,
          spec,
          container(['sh', '-c', `sleep 3600; echo ${marker}`]),
        ),
      );
    }
    expect((await processesWith(marker)).length).toBe(2);

    served.child.kill('SIGTERM');
    expect(await served.exited).toEqual({ code: 0, signal: null });
    expect(served.output()).toContain('stopped');
    expect(await processesWith(marker)).toEqual([]);
    await expect(lstat(socket)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(lstat(pidFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses to start (exit 2) when another server answers on the socket', async () => {
    const dir = await tempDir();
    const socket = join(dir, 'churn.sock');
    const first = await spawnServe(['--socket', socket, '--state-dir', join(dir, 'a')]);
    const second = await spawnServe(['--socket', socket, '--state-dir', join(dir, 'b')]);
    expect(await second.exited).toEqual({ code: 2, signal: null });
    expect(second.output()).toContain('another server is listening');
    first.child.kill('SIGINT');
    expect((await first.exited).code).toBe(0);
  });

  it('injects the faults of a --faults file, which has the shape of a scenario faults block', async () => {
    const dir = await tempDir();
    const socket = join(dir, 'churn.sock');
    const faults = join(dir, 'faults.yaml');
    await writeFile(faults, 'start:\n  errorRate: 100%\n  code: RESOURCE_EXHAUSTED\n');
    const served = await spawnServe([
      '--socket',
      socket,
      '--state-dir',
      join(dir, 's'),
      '--faults',
      faults,
      '--seed',
      '1',
    ]);
    const driver = new CriDriver({
      endpoint: `unix://${socket}`,
      runtimeHandler: '',
      callTimeoutMs: 10_000,
    });
    onTestFinished(() => driver.close());
    await driver.connect();
    const p = pod('faulty');
    const podId = await driver.runPod(p);
    const id = await driver.createContainer(podId, p, container(['sleep', '3600']));
    const failure = await driver.startContainer(id).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isChurnError(failure, 'RESOURCE_EXHAUSTED')).toBe(true);
    await driver.removePod(podId);
    served.child.kill('SIGTERM');
    expect((await served.exited).code).toBe(0);
  });
});

describe('churn serve option errors (in-process)', () => {
  it('rejects a faults file with a bad key or value with exit 2, naming file, line and key', async () => {
    const dir = await tempDir();
    const faults = join(dir, 'faults.yaml');
    await writeFile(faults, 'start:\n  errorRate: 2\nlist:\n  errorRate: 0.1\n');
    const io = bufferIo({ cwd: dir });
    const code = await runCli(
      [
        'serve',
        '--socket',
        join(dir, 's.sock'),
        '--state-dir',
        join(dir, 'st'),
        '--faults',
        'faults.yaml',
      ],
      io.io,
    );
    expect(code).toBe(2);
    expect(io.stderr()).toMatch(/faults\.yaml:2:\d+ faults\.start\.errorRate/);
    expect(io.stderr()).toMatch(
      /faults\.yaml:[34]:\d+ faults\.list: faults cannot be injected into list/,
    );
  });

  it('rejects a missing faults file with exit 2', async () => {
    const dir = await tempDir();
    const io = bufferIo({ cwd: dir });
    const code = await runCli(
      ['serve', '--socket', 's.sock', '--state-dir', 'st', '--faults', 'none.yaml'],
      io.io,
    );
    expect(code).toBe(2);
    expect(io.stderr()).toContain('none.yaml: cannot read faults file');
  });
});
