/**
 * The stock crictl (cri-tools v1.26.1, grpc-go: the kubelet's stack) through a container's whole
 * life against the built `churn serve`, for each executor, as a node operator would type it:
 * version, info, pull, images, runp, create, start, ps, pods, inspect and inspectp by a unique id
 * prefix, exec -s, exec -it under a pseudo-terminal, logs, stats, rmi of the image the container
 * runs (as containerd: removed at once, no new container can use it, its files go with the
 * container), stop, rm, stopp, rmp, and at the end nothing listed. Every crictl run is bounded in time; all traffic is on a unix socket
 * and loopback.
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { buildBusyboxArchive } from '../../scripts/oci-image.js';
import { startServe } from '../support/churn-process.js';
import { eventually, tempDir } from '../support/core-fixtures.js';
import { crictlFlags, runCrictl, stockCrictl, type CrictlResult } from '../support/crictl.js';
import { executorsUnderTest } from '../support/executors.js';

const crictl = await stockCrictl();
afterAll(() => crictl.release());

const image = 'churn.test/busybox:lifecycle';

/** Runs `crictl ARGS` under util-linux script (a pseudo-terminal of its own, 24 × 80). */
function crictlOnTerminal(endpoint: string, args: readonly string[]): Promise<CrictlResult> {
  const command = [
    'stty rows 24 cols 80;',
    'exec',
    crictl.path,
    ...crictlFlags(endpoint),
    ...args.map((a) => `'${a.replaceAll("'", `'\\''`)}'`),
  ].join(' ');
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  onTestFinished(() => void child.kill('SIGKILL'));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + 9, stdout, stderr });
    });
  });
}

describe.skipIf(crictl.skipReason !== undefined).each(executorsUnderTest())(
  'stock crictl drives a container through its life on churn serve, executor $name',
  ({ name, skip }) => {
    it.skipIf(skip)(
      'version … rmp, ids by unique prefix, and nothing left',
      async () => {
        const dir = await tempDir('churn-crictl-life-');
        const images = join(dir, 'images');
        await mkdir(images);
        await buildBusyboxArchive(join(images, 'busybox.tar'), [image]);
        const socket = join(dir, 'churn.sock');
        const served = await startServe(
          [
            '--socket',
            socket,
            '--state-dir',
            join(dir, 'state'),
            '--executor',
            name,
            '--images',
            images,
          ],
          dir,
        );
        expect(served.stdout()).toContain('listening on');
        const endpoint = `unix://${socket}`;
        const run = async (args: readonly string[]): Promise<CrictlResult> => {
          const r = await runCrictl(crictl.path, endpoint, args);
          expect(r.code, `crictl ${args.join(' ')}: ${r.stderr}`).toBe(0);
          return r;
        };

        const version = await run(['version']);
        expect(version.stdout).toMatch(/RuntimeName:\s+churn-core/);
        expect(version.stdout).toMatch(/RuntimeApiVersion:\s+v1/);
        const info = JSON.parse((await run(['info'])).stdout) as {
          status: { conditions: { type: string; status: boolean }[] };
        };
        expect(info.status.conditions).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ type: 'RuntimeReady', status: true }),
            expect.objectContaining({ type: 'NetworkReady', status: true }),
          ]),
        );

        await run(['pull', image]);
        expect((await run(['images'])).stdout).toContain('churn.test/busybox');

        const logDir = join(dir, 'logs');
        await mkdir(logDir);
        const podJson = join(dir, 'pod.json');
        const ctrJson = join(dir, 'ctr.json');
        await writeFile(
          podJson,
          JSON.stringify({
            metadata: { name: 'life', namespace: 'churn-e2e', uid: 'uid-life', attempt: 0 },
            log_directory: logDir,
            linux: { security_context: { namespace_options: { network: 2 } } },
          }),
        );
        await writeFile(
          ctrJson,
          JSON.stringify({
            metadata: { name: 'c' },
            image: { image },
            command: ['sh', '-c', 'echo hello from churn; exec sleep 3600'],
            log_path: 'c.log',
          }),
        );
        const podId = (await run(['runp', podJson])).stdout.trim();
        expect(podId).toMatch(/^[0-9a-f]{64}$/);
        const containerId = (await run(['create', podId, ctrJson, podJson])).stdout.trim();
        expect(containerId).toMatch(/^[0-9a-f]{64}$/);
        await run(['start', containerId]);

        // crictl lists 13-character ids; inspect and inspectp take a unique prefix.
        expect((await run(['ps'])).stdout).toContain(containerId.slice(0, 13));
        expect((await run(['pods'])).stdout).toContain(podId.slice(0, 13));
        const inspect = JSON.parse((await run(['inspect', containerId.slice(0, 12)])).stdout) as {
          status: { id: string; state: string };
        };
        expect(inspect.status).toMatchObject({ id: containerId, state: 'CONTAINER_RUNNING' });
        const inspectp = JSON.parse((await run(['inspectp', podId.slice(0, 12)])).stdout) as {
          status: { id: string; state: string };
        };
        expect(inspectp.status).toMatchObject({ id: podId, state: 'SANDBOX_READY' });

        const execSync = await run(['exec', '-s', containerId, 'sh', '-c', 'echo synced; exit 0']);
        // crictl 1.26 prints the reply's stdout and stderr each with a newline of its own.
        expect(execSync.stdout).toBe('synced\n\n\n');
        const onTty = await crictlOnTerminal(endpoint, [
          'exec',
          '-it',
          containerId,
          'sh',
          '-c',
          'sleep 0.5; test -t 0 && echo on-a-tty; stty size',
        ]);
        expect(onTty.code, onTty.stdout + onTty.stderr).toBe(0);
        // A size applies asynchronously (hence the sleep); under runc a line may end \r\r\n.
        expect(onTty.stdout).toMatch(/on-a-tty\r+\n/);
        expect(onTty.stdout).toMatch(/24 80\r+\n/);

        expect(
          await eventually(async () =>
            (await run(['logs', containerId])).stdout.includes('hello from churn'),
          ),
        ).toBe(true);
        const stats = await run(['stats', '--id', containerId]);
        expect(stats.stdout).toContain(containerId.slice(0, 13));

        // rmi of the image the container runs: as containerd answers it.
        expect((await run(['rmi', image])).stdout).toBe(`Deleted: ${image}\n`);
        expect((await run(['images'])).stdout).not.toContain('churn.test/busybox');
        const late = join(dir, 'late.json');
        await writeFile(late, JSON.stringify({ metadata: { name: 'late' }, image: { image } }));
        const refused = await runCrictl(crictl.path, endpoint, ['create', podId, late, podJson]);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain('code = NotFound');
        expect((await run(['exec', '-s', containerId, 'echo', 'still'])).stdout).toContain('still');
        const rootfs = join(dir, 'state', 'images', 'rootfs');
        expect(await readdir(rootfs)).toHaveLength(1); // kept for the container

        await run(['stop', containerId]);
        const stopped = JSON.parse((await run(['inspect', containerId])).stdout) as {
          status: { state: string };
        };
        expect(stopped.status.state).toBe('CONTAINER_EXITED');
        await run(['rm', containerId]);
        expect(await readdir(rootfs)).toEqual([]); // gone with its last container
        await run(['stopp', podId]);
        await run(['rmp', podId]);
        expect((await run(['ps', '-a', '-q'])).stdout.trim()).toBe('');
        expect((await run(['pods', '-q'])).stdout.trim()).toBe('');
      },
      120_000,
    );
  },
);
