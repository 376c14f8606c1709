import { describe, expect, it } from 'vitest';
import { isChurnError } from '../../../src/common/errors.js';
import { containerConfig, CriDriver, podSandboxConfig } from '../../../src/drivers/cri.js';
import type { PodSpec } from '../../../src/drivers/driver.js';
import { createDriver, type DriverTarget } from '../../../src/drivers/registry.js';

const target: DriverTarget = {
  driver: 'cri',
  endpoint: 'unix:///run/containerd/containerd.sock',
  runtimeHandler: 'runc',
  callTimeout: 120_000,
  executor: 'process',
};

const pod: PodSpec = {
  name: 'p',
  uid: 'u',
  namespace: 'ns',
  attempt: 1,
  labels: { 'churn.run': 'r' },
  annotations: { a: 'b' },
  hostNetwork: true,
  logDirectory: '/var/log/churn/p',
};

async function codeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (err) {
    return isChurnError(err) ? err.code : 'not a ChurnError';
  }
  return 'OK';
}

describe('createDriver', () => {
  it('builds the driver the target names, without connecting', async () => {
    expect((await createDriver(target)).kind).toBe('cri');
    expect(await createDriver(target)).toBeInstanceOf(CriDriver);
    expect((await createDriver({ ...target, driver: 'builtin' })).kind).toBe('builtin');
  });

  it('refuses an off-machine endpoint with ENDPOINT_INVALID', async () => {
    expect(await codeOf(() => createDriver({ ...target, endpoint: 'tcp://192.0.2.1:10010' }))).toBe(
      'ENDPOINT_INVALID',
    );
  });

  it('refuses faults for the cri driver: a CRI runtime injects its own', async () => {
    const faults = {
      start: {
        latencyMs: { meanMs: 0, stddevMs: 0 },
        errorRate: 0.1,
        code: 'UNAVAILABLE' as const,
      },
    };
    expect(await codeOf(() => createDriver(target, { faults }))).toBe('USAGE');
    expect(await codeOf(() => createDriver(target, { faults: {} }))).toBe('OK');
  });
});

describe('cri driver requests', () => {
  it('runs pods in the host network namespace by default, with the spec metadata', () => {
    expect(podSandboxConfig(pod)).toEqual({
      metadata: { name: 'p', uid: 'u', namespace: 'ns', attempt: 1 },
      hostname: '',
      logDirectory: '/var/log/churn/p',
      labels: { 'churn.run': 'r' },
      annotations: { a: 'b' },
      linux: {
        securityContext: { namespaceOptions: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } },
      },
    });
    const isolated = podSandboxConfig({ ...pod, hostNetwork: false });
    expect(isolated.linux?.securityContext?.namespaceOptions?.network).toBe('POD');
  });

  it('gives containers the pod namespaces, the image and the env as key/value pairs', () => {
    const config = containerConfig(pod, {
      name: 'c',
      attempt: 2,
      image: 'docker.io/library/busybox:latest',
      command: ['sleep'],
      args: ['3600'],
      workingDir: '/',
      env: { A: '1', B: 'x=y' },
      labels: {},
      annotations: {},
      logPath: 'c.log',
    });
    expect(config).toMatchObject({
      metadata: { name: 'c', attempt: 2 },
      image: { image: 'docker.io/library/busybox:latest' },
      command: ['sleep'],
      args: ['3600'],
      envs: [
        { key: 'A', value: '1' },
        { key: 'B', value: 'x=y' },
      ],
      logPath: 'c.log',
      linux: { securityContext: { namespaceOptions: { network: 'NODE' } } },
    });
  });
});
