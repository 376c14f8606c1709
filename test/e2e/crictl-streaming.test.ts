/**
 * Streaming judged by the stock crictl (cri-tools v1.26.1, grpc-go, the kubelet's SPDY client)
 * against the built `churn serve`, for each executor: exec with output, stderr and the exit
 * code, exec -i with stdin, exec -it on a terminal of the client's size, attach (output, and -i
 * to a container created with stdin), port-forward
 * to a listener inside the pod, and the refusals (unknown container, stopped container). All
 * on loopback; every crictl run is bounded in time.
 */
import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { startServe } from '../support/churn-process.js';
import { tempDir } from '../support/core-fixtures.js';
import { crictlFlags, runCrictl, stockCrictl, type CrictlResult } from '../support/crictl.js';
import { executorsUnderTest } from '../support/executors.js';

const crictl = await stockCrictl();
afterAll(() => crictl.release());

/** A `churn serve` of `executor` in a temp dir, and crictl pointed at it. */
async function serve(executor: string): Promise<{
  dir: string;
  endpoint: string;
  crictl: (args: readonly string[], input?: string) => Promise<CrictlResult>;
}> {
  const dir = await tempDir('churn-crictl-e2e-');
  const socket = join(dir, 'churn.sock');
  const served = await startServe(
    ['--socket', socket, '--state-dir', join(dir, 'state'), '--executor', executor],
    dir,
  );
  expect(served.stdout()).toMatch(/streaming http:\/\/127\.0\.0\.1:\d+/);
  const endpoint = `unix://${socket}`;
  return {
    dir,
    endpoint,
    crictl: (args, input) =>
      runCrictl(crictl.path, endpoint, args, input === undefined ? {} : { input }),
  };
}

type Served = Awaited<ReturnType<typeof serve>>;

/** Runs a host-network pod with one container running `command`; returns their ids. */
async function podWith(
  served: Served,
  command: readonly string[],
  extra: Record<string, unknown> = {},
): Promise<{ podId: string; containerId: string }> {
  const name = `p${Math.random().toString(36).slice(2, 8)}`;
  const logDir = join(served.dir, 'logs', name);
  await mkdir(logDir, { recursive: true });
  const podJson = join(served.dir, `${name}-pod.json`);
  const ctrJson = join(served.dir, `${name}-ctr.json`);
  await writeFile(
    podJson,
    JSON.stringify({
      metadata: { name, namespace: 'churn-e2e', uid: `uid-${name}`, attempt: 0 },
      log_directory: logDir,
      // network NODE (2): the host's network, where the test's listeners are.
      linux: { security_context: { namespace_options: { network: 2 } } },
    }),
  );
  await writeFile(
    ctrJson,
    JSON.stringify({
      metadata: { name: 'c' },
      image: { image: 'host' },
      command,
      log_path: 'c.log',
      ...extra,
    }),
  );
  const runp = await served.crictl(['runp', podJson]);
  expect(runp.stderr).toBe('');
  const podId = runp.stdout.trim();
  const create = await served.crictl(['create', podId, ctrJson, podJson]);
  expect(create.stderr).toBe('');
  const containerId = create.stdout.trim();
  expect((await served.crictl(['start', containerId])).code).toBe(0);
  return { podId, containerId };
}

/** A TCP port free on 127.0.0.1 just now. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Resolves once `pattern` matches what `read()` gives, or rejects after `timeoutMs`. */
async function until(read: () => string, pattern: RegExp, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(read())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}: ${read()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(crictl.skipReason !== undefined).each(executorsUnderTest())(
  'stock crictl against churn serve, executor $name',
  ({ name, skip }) => {
    it.skipIf(skip)(
      'exec: stdout and stderr, the exit code; unknown and stopped containers refused',
      async () => {
        const served = await serve(name);
        const { containerId } = await podWith(served, ['sleep', '3600']);

        const ok = await served.crictl(['exec', containerId, 'sh', '-c', 'echo out; echo err >&2']);
        expect(ok).toMatchObject({ code: 0, stdout: 'out\n', stderr: 'err\n' });

        // crictl 1.26 exits 1 for any failure and names the command's exit code.
        const failed = await served.crictl(['exec', containerId, 'sh', '-c', 'echo x; exit 7']);
        expect(failed.code).toBe(1);
        expect(failed.stdout).toBe('x\n');
        expect(failed.stderr).toContain('command terminated with exit code 7');

        const unknown = await served.crictl(['exec', 'no-such-container', 'true']);
        expect(unknown.code).toBe(1);
        expect(unknown.stderr).toContain('code = NotFound');

        expect((await served.crictl(['stop', containerId])).code).toBe(0);
        const stopped = await served.crictl(['exec', containerId, 'true']);
        expect(stopped.code).toBe(1);
        expect(stopped.stderr).toContain('code = FailedPrecondition');
        expect(stopped.stderr).toContain('EXITED');
      },
    );

    it.skipIf(skip)('exec -i: stdin reaches the command, and its end ends it', async () => {
      const served = await serve(name);
      const { containerId } = await podWith(served, ['sleep', '3600']);
      const r = await served.crictl(
        ['exec', '-i', containerId, 'sh', '-c', 'cat; echo [eof]'],
        'a\nb\n',
      );
      expect(r).toMatchObject({ code: 0, stdout: 'a\nb\n[eof]\n' });
    });

    it.skipIf(skip)("exec -it: a terminal of the client's size", async () => {
      const served = await serve(name);
      const { containerId } = await podWith(served, ['sleep', '3600']);
      // crictl -t needs a terminal of its own: util-linux script gives it one, 40 rows × 120
      // columns, which crictl sends as the first resize. A size applies asynchronously, hence
      // the sleep before asking.
      const command = [
        'stty rows 40 cols 120;',
        'exec',
        ...[crictl.path, ...crictlFlags(served.endpoint)],
        'exec -it',
        containerId,
        `sh -c 'sleep 0.5; stty size; test -t 0 && echo on-a-tty; exit 4'`,
      ].join(' ');
      const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      onTestFinished(() => void child.kill('SIGKILL'));
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(out).toContain('40 120\r\n');
      expect(out).toContain('on-a-tty\r\n');
      expect(out).toContain('command terminated with exit code 4');
      expect(code).toBe(1);
    });

    it.skipIf(skip)("attach: the container's output until it stops", async () => {
      const served = await serve(name);
      const { containerId } = await podWith(served, [
        'sh',
        '-c',
        'i=0; while [ $i -lt 600 ]; do echo tick $i; i=$((i+1)); sleep 0.1; done',
      ]);
      const child = spawn(crictl.path, [...crictlFlags(served.endpoint), 'attach', containerId], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      onTestFinished(() => void child.kill('SIGKILL'));
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      await until(() => out, /tick \d+\n[\s\S]*tick \d+\n/);
      expect((await served.crictl(['stop', '--timeout', '0', containerId])).code).toBe(0);
      expect(await exited).toBe(0);
      expect(out).toMatch(/^(tick \d+\n)+$/);
    });

    it.skipIf(skip)('attach -i: to a container created with stdin, a shell', async () => {
      const served = await serve(name);
      const { containerId } = await podWith(served, ['sh'], { stdin: true });
      // Types a line, waits for its answer, then ends the input: that ends the attach (no
      // stdin_once), not the container. (An input that ends at once can end the attach
      // before the answer comes, as with containerd.)
      const attach = async (line: string, answer: RegExp): Promise<string> => {
        const child = spawn(
          crictl.path,
          [...crictlFlags(served.endpoint), 'attach', '-i', containerId],
          { stdio: ['pipe', 'pipe', 'pipe'] },
        );
        onTestFinished(() => void child.kill('SIGKILL'));
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
        const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
        child.stdin.write(line);
        await until(() => out, answer);
        child.stdin.end();
        expect(await exited).toBe(0);
        return out;
      };
      expect(await attach('echo hi from $0\n', /hi from sh\n/)).toBe('hi from sh\n');
      expect(await attach('echo again\n', /again\n/)).toBe('again\n');
    });

    it.skipIf(skip)('port-forward: to an HTTP server inside the pod', async () => {
      const served = await serve(name);
      const port = await freePort();
      // The page is written from inside the container (a runc container has /tmp of its own;
      // under the process executor this is the host's /tmp, hence the unique name).
      const root = `/tmp/churn-e2e-www-${process.pid}-${port}`;
      onTestFinished(() => rm(root, { recursive: true, force: true }));
      const { podId, containerId } = await podWith(served, [
        'sh',
        '-c',
        `mkdir -p ${root} && echo hello from ${name} > ${root}/index.html && exec busybox httpd -f -p 127.0.0.1:${port} -h ${root}`,
      ]);
      // The server is up once the pod itself can reach it (exec, no forwarding yet).
      const probe = async (): Promise<boolean> =>
        (
          await served.crictl([
            'exec',
            containerId,
            'busybox',
            'wget',
            '-q',
            '-O',
            '-',
            `http://127.0.0.1:${port}/`,
          ])
        ).code === 0;
      let up = false;
      for (let i = 0; i < 100 && !(up = await probe()); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(up).toBe(true);

      const child = spawn(
        crictl.path,
        [...crictlFlags(served.endpoint), 'port-forward', podId, `:${port}`],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      onTestFinished(() => void child.kill('SIGKILL'));
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
      await until(() => out, /Forwarding from 127\.0\.0\.1:\d+ -> \d+/);
      const local = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)![1]!;
      // Two requests in a row over the same forward.
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`http://127.0.0.1:${local}/`, {
          signal: AbortSignal.timeout(10_000),
        });
        expect(res.status).toBe(200);
        expect(await res.text()).toBe(`hello from ${name}\n`);
      }
      expect(out).toContain(`Handling connection for ${local}`);
    });
  },
);
