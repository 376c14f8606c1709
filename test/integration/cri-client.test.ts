/**
 * The CRI client's calls, against the built-in core served in-process on a temp unix socket:
 * one abort signal shared by every call of a run (as the runner's cut signal is) gets one
 * listener however many calls it sees, and aborting it cancels every call then in flight and
 * no call made after; a socket nobody listens on, a request over the message limit, and that
 * `churn run` over CRI never loads grpc-js.
 */
import { getEventListeners } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CriClient } from '../../src/cri/client.js';
import { CriDriver } from '../../src/drivers/cri.js';
import { isChurnError } from '../../src/common/errors.js';
import { serveCore } from '../support/cri-serve.js';
import { tempDir } from '../support/core-fixtures.js';
import { codeOf } from '../support/error-code.js';
import { runChurn } from '../support/churn-process.js';
import { containerSpec, podSpec } from '../support/driver-specs.js';

const cleanup = (fn: () => Promise<void>): void => onTestFinished(fn);

describe('CriClient and abort signals', () => {
  it('a signal shared by many calls has one listener, and aborting it cancels every call in flight', async () => {
    const served = await serveCore(cleanup, {
      faults: {
        start: { latencyMs: { meanMs: 3000, stddevMs: 0 }, errorRate: 0, code: 'UNAVAILABLE' },
      },
      seed: 1,
    });
    const client = new CriClient(served.endpoint, { callTimeoutMs: 10_000 });
    onTestFinished(() => client.close());
    const driver = new CriDriver({
      endpoint: served.endpoint,
      runtimeHandler: '',
      callTimeoutMs: 10_000,
    });
    onTestFinished(() => driver.close());
    const pod = podSpec('shared-signal');
    const podId = await driver.runPod(pod);
    const ids = [
      await driver.createContainer(podId, pod, containerSpec({ name: 'a' })),
      await driver.createContainer(podId, pod, containerSpec({ name: 'b' })),
    ];

    const controller = new AbortController();
    const { signal } = controller;
    for (let i = 0; i < 20; i++) {
      expect((await client.runtime('Version', { version: 'v1' }, { signal })).runtimeName).toBe(
        'churn-core',
      );
    }
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);

    // Both starts wait on the injected latency; the abort reaches both.
    const starts = ids.map((containerId) =>
      codeOf(client.runtime('StartContainer', { containerId }, { signal })),
    );
    const otherSignal = new AbortController().signal;
    const unaffected = client.runtime('Version', { version: 'v1' }, { signal: otherSignal });
    setTimeout(() => controller.abort(), 50);
    expect(await Promise.all(starts)).toEqual(['CANCELLED', 'CANCELLED']);
    expect((await unaffected).runtimeName).toBe('churn-core');
    expect(await codeOf(client.runtime('Version', { version: 'v1' }, { signal }))).toBe(
      'CANCELLED',
    );
    await driver.stopPod(podId);
    await driver.removePod(podId);
  });
});

describe('CriClient errors', () => {
  it('says plainly that nothing listens at the socket, with no empty note from grpc-js', async () => {
    const socket = join(await tempDir(), 'none.sock');
    const client = new CriClient(`unix://${socket}`, { callTimeoutMs: 10_000 });
    onTestFinished(() => client.close());
    const failure = await client.runtime('Version', { version: 'v1' }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(failure?.message).toMatch(/^CRI Version: /);
    expect(failure?.message).toContain(`connect ENOENT ${socket}`);
    expect(failure?.message).not.toContain('Resolution note');
    expect(failure?.message).not.toContain('Error: connect');
    expect(failure?.message).not.toMatch(/[.:\s]$/);
  });

  it('refuses a request over 16 MiB with RESOURCE_EXHAUSTED without sending it', async () => {
    const served = await serveCore(cleanup);
    const client = new CriClient(served.endpoint, { callTimeoutMs: 10_000 });
    onTestFinished(() => client.close());
    const pod = podSpec('huge');
    const request = {
      config: {
        metadata: { name: pod.name, uid: pod.uid, namespace: pod.namespace, attempt: 0 },
        annotations: { huge: 'x'.repeat(16 * 1024 * 1024) },
      },
    };
    const failure = await client.runtime('RunPodSandbox', request).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(isChurnError(failure, 'RESOURCE_EXHAUSTED')).toBe(true);
    expect(failure?.message).toMatch(/Sent message larger than max \(\d+ vs\. 16777216\)/);
    expect(await served.core.listPodSandbox({})).toEqual([]);
  });
});

describe('what a CRI client loads', () => {
  it('churn run --driver cri makes its calls without loading grpc-js (the server library)', async () => {
    const served = await serveCore(cleanup);
    await served.core.pullImage('host');
    const dir = await tempDir();
    // Preloaded into the built churn: counts grpc-js's modules when the process exits.
    const probe = join(dir, 'probe.cjs');
    await writeFile(
      probe,
      `process.on('exit', () => process.stderr.write('grpc-js modules: ' +
        Object.keys(require.cache).filter((k) => k.includes('@grpc/grpc-js')).length + '\\n'));`,
    );
    await writeFile(
      join(dir, 'scenario.yaml'),
      'name: loads\nworkload:\n  image: host\n  steps: [run_pod, stop_pod, remove_pod]\n' +
        'load:\n  phases: [{ duration: 1s, concurrency: 1 }]\n',
    );
    const run = await runChurn(
      ['run', 'scenario.yaml', '--endpoint', served.endpoint, '--report-dir', 'out'],
      dir,
      { env: { NODE_OPTIONS: `--require ${probe}` } },
    );
    expect(run.stdout, run.stderr).toMatch(/^report: /m);
    expect(run.stderr).toContain('grpc-js modules: 0\n');
  });
});
