/**
 * The CRI client's calls, against the built-in core served in-process on a temp unix socket:
 * one abort signal shared by every call of a run (as the runner's cut signal is) gets one
 * listener however many calls it sees, and aborting it cancels every call then in flight and
 * no call made after; a socket nobody listens on, a request over the message limit, and that
 * a client process never loads grpc-js.
 */
import { execFile } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CriClient } from '../../src/cri/client.js';
import { CriDriver } from '../../src/drivers/cri.js';
import { isChurnError } from '../../src/common/errors.js';
import { serveCore } from '../support/cri-serve.js';
import { tempDir } from '../support/core-fixtures.js';
import { codeOf } from '../support/error-code.js';
import { containerSpec, podSpec } from '../support/driver-specs.js';

const cleanup = (fn: () => Promise<void>): void => onTestFinished(fn);
const execFileAsync = promisify(execFile);

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
  it('makes calls without loading grpc-js (the server library), as does the containerd driver', async () => {
    const served = await serveCore(cleanup);
    // A fresh process: this one has grpc-js loaded for the server.
    const script = `
      import { createRequire } from 'node:module';
      const { CriDriver } = await import(${JSON.stringify(distModule('drivers/cri.js'))});
      await import(${JSON.stringify(distModule('drivers/containerd.js'))});
      const driver = new CriDriver({ endpoint: process.argv[1], runtimeHandler: '', callTimeoutMs: 10000 });
      const version = await driver.connect();
      await driver.close();
      const cache = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({ runtime: version.runtimeName, grpcJs: cache.filter((k) => k.includes('@grpc/grpc-js')).length }));
    `;
    const { stdout } = await execFileAsync(process.execPath, [
      '--input-type=module',
      '-e',
      script,
      served.endpoint,
    ]);
    expect(JSON.parse(stdout)).toEqual({ runtime: 'churn-core', grpcJs: 0 });
  });
});

/** The built module at `path` under dist/ (the test needs `npm run build`). */
function distModule(path: string): string {
  return new URL(`../../dist/${path}`, import.meta.url).href;
}
