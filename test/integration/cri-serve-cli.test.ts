/**
 * `churn serve` as users run it: the built CLI (dist/, built by the global setup) in its own
 * process, driven by the cri driver; SIGTERM stops it gracefully with nothing left behind.
 * Option errors are checked in-process through runCli.
 */
import { lstat, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import { isChurnError } from '../../src/common/errors.js';
import { CriDriver } from '../../src/drivers/cri.js';
import type { ContainerSpec, PodSpec } from '../../src/drivers/driver.js';
import { bufferIo } from '../support/cli-io.js';
import { runChurn, startServe } from '../support/churn-process.js';
import { eventually, processesWithMarker, tempDir } from '../support/core-fixtures.js';
import { containerSpec, podSpec } from '../support/driver-specs.js';

const labels = { 'churn.run': 'cli' };
const pod = (name: string): PodSpec => podSpec(name, { labels });
const container = (command: readonly string[]): ContainerSpec => containerSpec({ command, labels });

describe('churn serve (built CLI)', () => {
  it('serves CRI on a 0600 socket, writes its pid file, and on SIGTERM stops every task and exits 0', async () => {
    const dir = await tempDir();
    const socket = join(dir, 'churn.sock');
    const pidFile = join(dir, 'serve.pid');
    const served = await startServe(
      ['--socket', socket, '--state-dir', join(dir, 'state'), '--pid-file', pidFile],
      dir,
    );
    expect(served.stdout()).toContain(`listening on unix://${socket}`);
    const own = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
    expect(served.stdout()).toContain(
      `process tasks as ${process.getuid?.() === 0 ? '65534:65534' : own} by default`,
    );
    expect(Number((await readFile(pidFile, 'utf8')).trim())).toBe(served.child.pid);
    expect((await lstat(socket)).mode & 0o777).toBe(0o600);

    const driver = new CriDriver({
      endpoint: `unix://${socket}`,
      runtimeHandler: '',
      callTimeoutMs: 10_000,
    });
    onTestFinished(() => driver.close());
    // The driver finds the server's pid (the socket's owner, or Status info) for sampling.
    expect(await driver.connect()).toMatchObject({
      runtimeName: 'churn-core',
      pid: served.child.pid,
    });
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
    // Each shell forks its sleep: until that child execs, it shows the shell's command line too.
    expect(await eventually(() => processesWithMarker(marker).length === 2)).toBe(true);

    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
    expect(served.stdout()).toContain('stopped');
    expect(processesWithMarker(marker)).toEqual([]);
    await expect(lstat(socket)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(lstat(pidFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses to start (exit 2) when another server answers on the socket, creating no state', async () => {
    const dir = await tempDir();
    const socket = join(dir, 'churn.sock');
    const first = await startServe(['--socket', socket, '--state-dir', join(dir, 'a')], dir);
    const second = await startServe(
      ['--socket', socket, '--state-dir', join(dir, 'b', 'state')],
      dir,
    );
    expect(await second.exited).toBe(2);
    expect(second.stderr()).toContain('another server is listening');
    await expect(lstat(join(dir, 'b'))).rejects.toMatchObject({ code: 'ENOENT' });
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
  });

  it('refuses to start (exit 2) on a state directory another serve holds, leaving that one alone', async () => {
    const dir = await tempDir();
    const state = join(dir, 'state');
    const socket = join(dir, 'first.sock');
    const first = await startServe(['--socket', socket, '--state-dir', state], dir);
    expect(first.stdout()).toContain('listening on');
    const before = (await readdir(state)).sort();
    const lock = await readFile(join(state, 'core.lock'), 'utf8');

    const second = await startServe(
      ['--socket', join(dir, 'second.sock'), '--state-dir', state],
      dir,
    );
    expect(await second.exited).toBe(2);
    expect(second.stderr()).toContain(
      `state directory ${state} is in use by another core (pid ${String(first.child.pid)})`,
    );
    expect(second.stderr().trim().split('\n')).toHaveLength(1);
    await expect(lstat(join(dir, 'second.sock'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await readdir(state)).sort()).toEqual(before);
    expect(await readFile(join(state, 'core.lock'), 'utf8')).toBe(lock);

    // The first still serves from its state.
    const driver = new CriDriver({
      endpoint: `unix://${socket}`,
      runtimeHandler: '',
      callTimeoutMs: 10_000,
    });
    onTestFinished(() => driver.close());
    const podId = await driver.runPod(pod('still-served'));
    await driver.stopPod(podId);
    await driver.removePod(podId);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  });

  it.each([
    [['--executor', 'runc'], /^churn: --executor runc needs root \(churn serve runs as uid \d+\)/],
    [
      ['--task-user', '0'],
      /^churn: --task-user "0" \(0:0\): churn runs as \d+:\d+, not root, so it cannot run tasks as another user/,
    ],
  ])('refuses %j without root (exit 2), creating no state', async (flags, message) => {
    const dir = await tempDir();
    // As root, churn runs in a new user namespace where it is not root (getuid() is the
    // overflow uid) yet still reads its own files, wherever the checkout is (a 0700 temp dir
    // included, which a uid switch to nobody could not read).
    const asRoot = process.getuid?.() === 0;
    const result = await runChurn(
      ['serve', '--socket', join(dir, 's.sock'), '--state-dir', join(dir, 'st'), ...flags],
      dir,
      asRoot ? { runUnder: ['unshare', '--user'] } : {},
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(await readdir(dir)).toEqual([]);
  });

  it.each([
    ['1:2:3', 'use UID[:GID] or NAME[:GROUP]'],
    ['1:', 'use UID[:GID] or NAME[:GROUP]'],
    ['4294967295', 'uid 4294967295 is too large'],
    ['churn-no-such-user', `no user "churn-no-such-user" in the host's /etc/passwd`],
    ['nobody:churn-no-such-group', `no group "churn-no-such-group" in the host's /etc/group`],
  ])('refuses --task-user %s with exit 2, creating no state', async (value, message) => {
    const dir = await tempDir();
    const io = bufferIo({ cwd: dir });
    const code = await runCli(
      ['serve', '--socket', 's.sock', '--state-dir', 'st', '--task-user', value],
      io.io,
    );
    expect(code).toBe(2);
    expect(io.stderr()).toContain(`churn: --task-user "${value}": ${message}`);
    expect(await readdir(dir)).toEqual([]);
  });

  it.runIf(process.getuid?.() === 0)(
    'removes the state directory it created when the core refuses to open (no runc on PATH): exit 2',
    async () => {
      const dir = await tempDir();
      const result = await runChurn(
        [
          'serve',
          '--socket',
          join(dir, 's.sock'),
          '--state-dir',
          join(dir, 'new', 'state'),
          '--executor',
          'runc',
        ],
        dir,
        { env: { PATH: join(dir, 'no-bin') } },
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('executor runc: cannot run runc');
      expect(await readdir(dir)).toEqual([]);
    },
  );

  it('injects the faults of a --faults file, which has the shape of a scenario faults block', async () => {
    const dir = await tempDir();
    const socket = join(dir, 'churn.sock');
    const faults = join(dir, 'faults.yaml');
    await writeFile(faults, 'start:\n  errorRate: 100%\n  code: RESOURCE_EXHAUSTED\n');
    const served = await startServe(
      ['--socket', socket, '--state-dir', join(dir, 's'), '--faults', faults, '--seed', '1'],
      dir,
    );
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
    expect(await served.exited).toBe(0);
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

  it.each([
    ['does not exist', 'none'],
    ['is not a directory', 'file.tar'],
  ])(
    'refuses --images that %s with exit 2, naming flag and path, creating no state',
    async (problem, name) => {
      const dir = await tempDir();
      await writeFile(join(dir, 'file.tar'), '');
      const io = bufferIo({ cwd: dir });
      const code = await runCli(
        ['serve', '--socket', 's.sock', '--state-dir', 'st', '--images', name],
        io.io,
      );
      expect(code).toBe(2);
      expect(io.stderr()).toBe(
        `churn: --images ${name} (${join(dir, name)}): ${problem}; give the directory of OCI image archives (.tar) PullImage resolves from\n`,
      );
      expect(await readdir(dir)).toEqual(['file.tar']);
    },
  );

  it.each([
    ['--executor', 'crun', 'unknown value "crun": use one of process, runc'],
    [
      '--executor',
      'proces',
      'unknown value "proces" (did you mean "process"?): use one of process, runc',
    ],
    [
      '--compat',
      'containrd',
      'unknown value "containrd" (did you mean "containerd"?): use one of strict, containerd',
    ],
  ])(
    'refuses %s %s with one message and exit 2, creating no state',
    async (flag, value, message) => {
      const dir = await tempDir();
      const io = bufferIo({ cwd: dir });
      const code = await runCli(
        ['serve', '--socket', 's.sock', '--state-dir', 'st', flag, value],
        io.io,
      );
      expect(code).toBe(2);
      expect(io.stderr().match(/^churn: /gm)).toEqual(['churn: ']);
      expect(io.stderr()).toContain(`churn: ${flag}: ${message}\n`);
      expect(await readdir(dir)).toEqual([]);
    },
  );

  it.each(['0.0.0.0:0', '192.168.1.1', 'localhost:10010', '127.0.0.1:70000'])(
    'refuses --streaming-address %s (loopback addresses only) with exit 2, creating no state',
    async (value) => {
      const dir = await tempDir();
      const io = bufferIo({ cwd: dir });
      const code = await runCli(
        ['serve', '--socket', 's.sock', '--state-dir', 'st', '--streaming-address', value],
        io.io,
      );
      expect(code).toBe(2);
      expect(io.stderr()).toBe(
        `churn: --streaming-address ${value}: use a loopback HOST[:PORT], e.g. 127.0.0.1:0 or [::1]:10010 (streams are served on loopback only)\n`,
      );
      expect(await readdir(dir)).toEqual([]);
    },
  );

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
