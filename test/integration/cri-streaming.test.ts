/**
 * CRI Exec, Attach and PortForward over real gRPC and the real streaming server, for each
 * executor, with a SPDY client of the tests' own (the stock crictl is the judge in
 * test/e2e/crictl-streaming.test.ts): output and exit status on the error stream, stdin and its
 * end, a terminal and its size, a client that goes away, attach to a container's output,
 * forwarded connections and refused ones, and every refusal of the URL and its upgrade.
 */
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildBusyboxArchive } from '../../scripts/oci-image.js';
import { streamingService } from '../../src/cri/streaming/streaming-proto.js';
import { StreamingServer, tokenTtlMs } from '../../src/cri/streaming/streaming-server.js';
import {
  containerConfig,
  eventually,
  podConfig,
  processesWithMarker,
  tempDir,
} from '../support/core-fixtures.js';
import { serveCore, type ServedCore } from '../support/cri-serve.js';
import { executorsUnderTest } from '../support/executors.js';
import { SpdyClient, type ClientStream } from '../support/spdy-client.js';

const cleanup = (fn: () => Promise<void>): void => onTestFinished(fn);

type Rpc = 'exec' | 'attach' | 'portForward';

/** Calls one of the three RPCs over the served socket; resolves with the URL or the gRPC error. */
async function call(served: ServedCore, rpc: Rpc, request: object): Promise<string> {
  const Ctor = streamingService();
  const client = new Ctor(served.endpoint, credentials.createInsecure());
  onTestFinished(() => client.close());
  const method = client[rpc] as (
    req: object,
    cb: (err: ServiceError | null, res?: { url: string }) => void,
  ) => void;
  return new Promise((resolve, reject) => {
    method.call(client, request, (err, res) => (err === null ? resolve(res!.url) : reject(err)));
  });
}

async function grpcCode(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as ServiceError).code;
  }
}

/** Upgrades to `url` with `protocols`; the session is closed when the test ends. */
async function session(url: string, protocols = ['v4.channel.k8s.io']): Promise<SpdyClient> {
  const { answer, client } = await SpdyClient.connect(url, protocols);
  expect(answer.status).toBe(101);
  onTestFinished(() => client?.destroy());
  return client!;
}

/** Opens the remote-command streams as remotecommand does; waits for their replies. */
async function openStreams(
  client: SpdyClient,
  types: readonly string[],
): Promise<Record<string, ClientStream>> {
  const out: Record<string, ClientStream> = {};
  for (const type of types) out[type] = client.open({ streamtype: type });
  for (const stream of Object.values(out)) expect(await stream.replied).toBe(true);
  return out;
}

async function runningContainer(
  served: ServedCore,
  options: { command?: string[]; logDir?: string } = {},
): Promise<{ podId: string; containerId: string }> {
  const pod = podConfig(options.logDir === undefined ? {} : { logDirectory: options.logDir });
  const podId = await served.core.runPodSandbox(pod, '');
  const containerId = await served.core.createContainer(
    podId,
    containerConfig({
      command: options.command ?? ['sleep', '3600'],
      ...(options.logDir === undefined ? {} : { logPath: 'c.log' }),
    }),
    pod,
  );
  await served.core.startContainer(containerId);
  return { podId, containerId };
}

describe.each(executorsUnderTest())('CRI streaming, executor $name', ({ name, skip }) => {
  const serve = (): Promise<ServedCore> => serveCore(cleanup, { executor: name });

  it.skipIf(skip)('exec: stdout and stderr apart, and the exit code as a v4 status', async () => {
    const served = await serve();
    const { containerId } = await runningContainer(served);
    const cmd = ['sh', '-c', 'echo out; echo err >&2; exit 3'];
    const url = await call(served, 'exec', { containerId, cmd, stdout: true, stderr: true });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/exec\/[\w-]+$/);
    const client = await session(url);
    const s = await openStreams(client, ['error', 'stdout', 'stderr']);
    await Promise.all([s.stdout!.ended, s.stderr!.ended, s.error!.ended]);
    expect(s.stdout!.text()).toBe('out\n');
    expect(s.stderr!.text()).toBe('err\n');
    expect(JSON.parse(s.error!.text())).toMatchObject({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    await client.closed;
    expect(client.goAway).toBe(true);

    const ok = await call(served, 'exec', { containerId, cmd: ['true'], stdout: true });
    const okClient = await session(ok);
    const o = await openStreams(okClient, ['error', 'stdout']);
    await o.error!.ended;
    expect(JSON.parse(o.error!.text())).toEqual({ metadata: {}, status: 'Success' });
  });

  it.skipIf(skip)('exec: stdin reaches the command and its end ends the input', async () => {
    const served = await serve();
    const { containerId } = await runningContainer(served);
    const url = await call(served, 'exec', {
      containerId,
      cmd: ['sh', '-c', 'cat; echo "[eof]"'],
      stdin: true,
      stdout: true,
    });
    const client = await session(url);
    const s = await openStreams(client, ['error', 'stdin', 'stdout']);
    s.stdin!.write('first\n');
    await s.stdout!.waitFor(/first\n/);
    s.stdin!.write('second');
    s.stdin!.end();
    await s.stdout!.ended;
    expect(s.stdout!.text()).toBe('first\nsecond[eof]\n');
    await s.error!.ended;
    expect(JSON.parse(s.error!.text())).toMatchObject({ status: 'Success' });
  });

  // runc: `runc exec --tty` under `script` (without --tty runc hands the process pipes, and
  // `stty size` in it failed with "Inappropriate ioctl for device").
  it.skipIf(skip)('exec with a tty: a terminal of the size the client sends', async () => {
    const served = await serve();
    const { containerId } = await runningContainer(served);
    const url = await call(served, 'exec', {
      containerId,
      cmd: ['sh'],
      tty: true,
      stdin: true,
      stdout: true,
      stderr: true,
    });
    const client = await session(url);
    // With a tty: no stderr stream, a resize stream instead.
    const s = await openStreams(client, ['error', 'stdin', 'stdout', 'resize']);
    // A size applies asynchronously (as with any runtime): ask until the terminal has it.
    const untilSize = async (size: string): Promise<void> => {
      let seen = false;
      const found = s.stdout!.waitFor(new RegExp(`${size}\r\n`)).then(() => (seen = true));
      while (!seen) {
        s.stdin!.write('stty size\n');
        await Promise.race([found, new Promise((r) => setTimeout(r, 100))]);
      }
    };
    s.resize!.write('{"Width":101,"Height":33}\n');
    s.stdin!.write('test -t 0 && echo "on a tty"\n');
    await untilSize('33 101');
    s.resize!.write('{"Width":90,"Height":20}\n');
    await untilSize('20 90');
    s.stdin!.write('exit 4\n');
    await s.error!.ended;
    expect(s.stdout!.text()).toContain('on a tty');
    expect(JSON.parse(s.error!.text())).toMatchObject({
      details: { causes: [{ reason: 'ExitCode', message: '4' }] },
    });
  });

  // A busybox image's /bin/echo is a symlink to busybox, which runs the applet argv[0] names
  // (critest's tty exec failed under the process executor with "hello: applet not found",
  // exit 127, when argv[0] was the resolved path of busybox).
  // busybox-static is installed by .ci/run: in CI its absence fails the test instead.
  it.skipIf(skip || (!existsSync('/bin/busybox') && process.env.CI !== 'true'))(
    'exec with a tty in a busybox image: argv[0] names the applet',
    async () => {
      const served = await serve();
      const dir = await tempDir();
      const built = await buildBusyboxArchive(join(dir, 'bb.tar'), ['churn.test/busybox:1']);
      await served.core.importImageArchive(built.out);
      const pod = podConfig();
      const podId = await served.core.runPodSandbox(pod, '');
      const containerId = await served.core.createContainer(
        podId,
        containerConfig({ image: 'churn.test/busybox:1', command: ['sleep', '3600'] }),
        pod,
      );
      await served.core.startContainer(containerId);
      const url = await call(served, 'exec', {
        containerId,
        cmd: ['echo', 'hello', 'applet'],
        tty: true,
        stdout: true,
      });
      const client = await session(url);
      // With a tty the server waits for a resize stream too, as the kubelet's does.
      const s = await openStreams(client, ['error', 'stdout', 'resize']);
      await s.error!.ended;
      // runc's output sometimes carries a second \r (\r\r\n, shown as \r\n by a terminal),
      // seen only with a tty but no stdin, which crictl never asks for (-t needs -i).
      expect(s.stdout!.text()).toMatch(
        name === 'runc' ? /^hello applet\r+\n$/ : /^hello applet\r\n$/,
      );
      expect(JSON.parse(s.error!.text())).toMatchObject({ status: 'Success' });
    },
  );

  it.skipIf(skip)('exec: a client that goes away takes the command with it', async () => {
    const served = await serve();
    const { containerId } = await runningContainer(served);
    const marker = `stream-gone-${name}-${process.pid}`;
    const url = await call(served, 'exec', {
      containerId,
      cmd: ['sh', '-c', `echo started; sleep 3600; echo ${marker}`],
      stdout: true,
    });
    const client = await session(url);
    const s = await openStreams(client, ['error', 'stdout']);
    await s.stdout!.waitFor(/started/);
    expect(processesWithMarker(marker).length).toBeGreaterThan(0);
    client.destroy();
    expect(await eventually(() => processesWithMarker(marker).length === 0)).toBe(true);
  });

  it.skipIf(skip)(
    'exec before v4: nothing on success, the message as text on failure',
    async () => {
      const served = await serve();
      const { containerId } = await runningContainer(served);
      const url = await call(served, 'exec', {
        containerId,
        cmd: ['sh', '-c', 'exit 2'],
        stdout: true,
      });
      const { answer, client } = await SpdyClient.connect(url, ['v2.channel.k8s.io']);
      onTestFinished(() => client?.destroy());
      expect(answer.headers['x-stream-protocol-version']).toBe('v2.channel.k8s.io');
      const s = await openStreams(client!, ['error', 'stdout']);
      await s.error!.ended;
      expect(s.error!.text()).toMatch(/non-zero exit code.*2/);
    },
  );

  it.skipIf(skip)("attach: the container's output from now on, until it exits", async () => {
    const served = await serve();
    const logDir = await tempDir();
    const { containerId } = await runningContainer(served, {
      logDir,
      command: [
        'sh',
        '-c',
        'i=0; while [ $i -lt 300 ]; do echo tick $i; echo tock $i >&2; i=$((i+1)); sleep 0.1; done',
      ],
    });
    // Attach once tick 0 is in the log, so it was written before the attach.
    const logged = (): Promise<string> => readFile(join(logDir, 'c.log'), 'utf8').catch(() => '');
    expect(await eventually(async () => (await logged()).includes('tick 1\n'))).toBe(true);
    const url = await call(served, 'attach', { containerId, stdout: true, stderr: true });
    expect(url).toMatch(/\/attach\//);
    const client = await session(url);
    const s = await openStreams(client, ['error', 'stdout', 'stderr']);
    await s.stdout!.waitFor(/tick \d+\n[\s\S]*tick \d+\n/);
    await s.stderr!.waitFor(/tock \d+\n/);
    // Only whole lines, and only output written after the attach.
    expect(s.stdout!.text()).not.toMatch(/tick 0\n/);
    expect(s.stdout!.text()).toMatch(/^(tick \d+\n)+/);
    await served.core.stopContainer(containerId, 0);
    await s.error!.ended;
    expect(JSON.parse(s.error!.text())).toMatchObject({ status: 'Success' });
  });

  it.skipIf(skip)(
    'attach with stdin to a container created with stdin: live output, no log needed',
    async () => {
      const served = await serve();
      const pod = podConfig();
      const podId = await served.core.runPodSandbox(pod, '');
      const containerId = await served.core.createContainer(
        podId,
        containerConfig({ command: ['sh'], stdin: true }),
        pod,
      );
      await served.core.startContainer(containerId);
      const url = await call(served, 'attach', {
        containerId,
        stdin: true,
        stdout: true,
        stderr: true,
      });
      const client = await session(url);
      const s = await openStreams(client, ['error', 'stdin', 'stdout', 'stderr']);
      s.stdin!.write('echo hello\n');
      s.stdin!.write('echo oops >&2\n');
      await s.stdout!.waitFor(/hello\n/);
      await s.stderr!.waitFor(/oops\n/);
      // Without stdin_once the client's end of input ends the attach, not the container.
      s.stdin!.end();
      await s.error!.ended;
      expect(JSON.parse(s.error!.text())).toMatchObject({ status: 'Success' });
      expect(s.stdout!.text()).toBe('hello\n');
      expect((await served.core.containerStatus(containerId)).state).toBe('RUNNING');

      // A second attach sees the same shell.
      const again = await session(
        await call(served, 'attach', { containerId, stdin: true, stdout: true }),
      );
      const t = await openStreams(again, ['error', 'stdin', 'stdout']);
      t.stdin!.write('echo again\n');
      await t.stdout!.waitFor(/again\n/);
    },
  );

  it.skipIf(skip)(
    'attach with stdin_once: the end of input closes the container stdin, and it exits',
    async () => {
      const served = await serve();
      const pod = podConfig();
      const podId = await served.core.runPodSandbox(pod, '');
      const containerId = await served.core.createContainer(
        podId,
        containerConfig({ command: ['sh', '-c', 'cat; echo [eof]'], stdin: true, stdinOnce: true }),
        pod,
      );
      await served.core.startContainer(containerId);
      const url = await call(served, 'attach', { containerId, stdin: true, stdout: true });
      const client = await session(url);
      const s = await openStreams(client, ['error', 'stdin', 'stdout']);
      s.stdin!.write('line\n');
      s.stdin!.end();
      await s.error!.ended;
      expect(s.stdout!.text()).toBe('line\n[eof]\n');
      expect(
        await eventually(
          async () => (await served.core.containerStatus(containerId)).state === 'EXITED',
        ),
      ).toBe(true);
    },
  );

  it.skipIf(skip)(
    'port-forward: connections to the pod loopback, and one nothing answers',
    async () => {
      const served = await serve();
      const { podId } = await runningContainer(served);
      const echo = createServer((socket) => {
        socket.on('data', (d) => socket.write(`echo:${d.toString()}`));
        socket.on('end', () => socket.end());
      });
      await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
      onTestFinished(() => new Promise<void>((resolve) => echo.close(() => resolve())));
      const port = String((echo.address() as AddressInfo).port);
      const url = await call(served, 'portForward', { podSandboxId: podId, port: [Number(port)] });
      const { answer, client } = await SpdyClient.connect(url, ['portforward.k8s.io']);
      onTestFinished(() => client?.destroy());
      expect(answer.headers['x-stream-protocol-version']).toBe('portforward.k8s.io');
      // Two connections at once over one session.
      const pairs = ['1', '2'].map((requestid) => {
        const error = client!.open({ streamtype: 'error', port, requestid });
        const data = client!.open({ streamtype: 'data', port, requestid });
        return { error, data, requestid };
      });
      for (const { data, requestid } of pairs) {
        expect(await data.replied).toBe(true);
        data.write(`hello ${requestid}`);
        data.end();
      }
      for (const { data, error, requestid } of pairs) {
        await data.ended;
        expect(data.text()).toBe(`echo:hello ${requestid}`);
        await error.ended;
        expect(error.text()).toBe('');
      }
      // A port nothing listens on: the reason on the error stream.
      const closed = await new Promise<number>((resolve) => {
        const probe = createServer();
        probe.listen(0, '127.0.0.1', () => {
          const p = (probe.address() as AddressInfo).port;
          probe.close(() => resolve(p));
        });
      });
      const error = client!.open({ streamtype: 'error', port: String(closed), requestid: '3' });
      const data = client!.open({ streamtype: 'data', port: String(closed), requestid: '3' });
      await error.ended;
      await data.ended;
      expect(error.text()).toMatch(new RegExp(`error forwarding port ${closed}: .*ECONNREFUSED`));
      // A stream without a valid port is refused.
      expect(await client!.open({ streamtype: 'data', port: '0', requestid: '4' }).replied).toBe(
        false,
      );
    },
  );
});

describe('CRI streaming refusals', () => {
  it('checks requests before giving a URL, and each URL serves once', async () => {
    const served = await serveCore(cleanup);
    const pod = podConfig();
    const podId = await served.core.runPodSandbox(pod, '');
    const created = await served.core.createContainer(podId, containerConfig(), pod);
    // 9 FAILED_PRECONDITION, 5 NOT_FOUND, 3 INVALID_ARGUMENT
    expect(
      await grpcCode(call(served, 'exec', { containerId: created, cmd: ['true'], stdout: true })),
    ).toBe(9);
    expect(await grpcCode(call(served, 'attach', { containerId: created, stdout: true }))).toBe(9);
    expect(
      await grpcCode(call(served, 'exec', { containerId: 'nope', cmd: ['true'], stdout: true })),
    ).toBe(5);
    expect(
      await grpcCode(call(served, 'exec', { containerId: created, cmd: [], stdout: true })),
    ).toBe(3);
    expect(await grpcCode(call(served, 'exec', { containerId: created, cmd: ['true'] }))).toBe(3);
    expect(await grpcCode(call(served, 'portForward', { podSandboxId: 'nope', port: [80] }))).toBe(
      5,
    );
    expect(
      await grpcCode(call(served, 'portForward', { podSandboxId: podId, port: [70000] })),
    ).toBe(3);
    await served.core.stopPodSandbox(podId);
    expect(await grpcCode(call(served, 'portForward', { podSandboxId: podId, port: [80] }))).toBe(
      9,
    );

    const { podId: readyPod } = await runningContainer(served);
    const url = await call(served, 'portForward', { podSandboxId: readyPod, port: [80] });
    // Upgrade headers missing: 400.
    const plain = await SpdyClient.connect(url, ['portforward.k8s.io'], { Connection: 'close' });
    expect(plain.answer.status).toBe(400);
    // No protocol in common: 403 naming the server's.
    const url2 = await call(served, 'portForward', { podSandboxId: readyPod, port: [80] });
    const wrong = await SpdyClient.connect(url2, ['v4.channel.k8s.io']);
    expect(wrong.answer.status).toBe(403);
    expect(wrong.answer.headers['x-accepted-stream-protocol-versions']).toBe('portforward.k8s.io');
    // A made-up token, and a token of another kind.
    const base = new URL(url).origin;
    expect((await SpdyClient.connect(`${base}/exec/AAAAAAAAAAAAAAAA`, [])).answer.status).toBe(404);
    const url3 = await call(served, 'portForward', { podSandboxId: readyPod, port: [80] });
    const token = url3.split('/').pop()!;
    expect((await SpdyClient.connect(`${base}/exec/${token}`, [])).answer.status).toBe(404);
    // Refused for its kind, that token is still unused: it serves its own kind once, and then
    // is gone like any used token (404 before anything else is looked at).
    const served3 = await SpdyClient.connect(url3, ['portforward.k8s.io']);
    onTestFinished(() => served3.client?.destroy());
    expect(served3.answer.status).toBe(101);
    expect((await SpdyClient.connect(url3, ['portforward.k8s.io'])).answer.status).toBe(404);
    // The request without upgrade headers used `url` up too.
    expect((await SpdyClient.connect(url, ['portforward.k8s.io'])).answer.status).toBe(404);
    // Plain HTTP: 404 for a token that is not (or no longer) there, 400 for a live one.
    expect((await fetch(`${base}/exec/AAAAAAAAAAAAAAAA`)).status).toBe(404);
    expect((await fetch(url3)).status).toBe(404);
    const url4 = await call(served, 'portForward', { podSandboxId: readyPod, port: [80] });
    expect((await fetch(url4, { method: 'POST' })).status).toBe(400);
    expect((await fetch(url4, { method: 'POST' })).status).toBe(404);
  });

  it('refuses exec and attach in a container that has exited; compat containerd: UNKNOWN', async () => {
    for (const [compat, code] of [
      ['strict', 9],
      ['containerd', 2],
    ] as const) {
      const served = await serveCore(cleanup, { compat });
      const logDir = await tempDir();
      const { containerId } = await runningContainer(served, { logDir });
      await served.core.stopContainer(containerId, 0);
      expect((await served.core.containerStatus(containerId)).state).toBe('EXITED');
      const exec = call(served, 'exec', { containerId, cmd: ['true'], stdout: true });
      await expect(exec).rejects.toMatchObject({
        code,
        details: expect.stringMatching(/cannot exec in state EXITED/) as unknown,
      });
      const attach = call(served, 'attach', { containerId, stdout: true });
      await expect(attach).rejects.toMatchObject({
        code,
        details: expect.stringMatching(/cannot attach in state EXITED/) as unknown,
      });
      // A container without a log has nothing to attach to.
      const { containerId: unlogged } = await runningContainer(served);
      expect(await grpcCode(call(served, 'attach', { containerId: unlogged, stdout: true }))).toBe(
        9,
      );
    }
  });

  it('a URL expires after the TTL unused: 404', async () => {
    const served = await serveCore(cleanup);
    const { containerId } = await runningContainer(served);
    let nowMs = 1_000;
    const streaming = await StreamingServer.listen(served.core, { now: () => nowMs });
    onTestFinished(() => streaming.close());
    const request = {
      kind: 'exec',
      containerId,
      cmd: ['true'],
      stdin: false,
      stdout: true,
      stderr: false,
      tty: false,
    } as const;
    const fresh = streaming.url(request);
    const stale = streaming.url(request);
    nowMs += tokenTtlMs - 1;
    const inTime = await SpdyClient.connect(fresh, ['v4.channel.k8s.io']);
    onTestFinished(() => inTime.client?.destroy());
    expect(inTime.answer.status).toBe(101);
    nowMs += 1;
    const late = await SpdyClient.connect(stale, ['v4.channel.k8s.io']);
    expect(late.answer.status).toBe(404);
    expect(late.client).toBeUndefined();
  });
});
