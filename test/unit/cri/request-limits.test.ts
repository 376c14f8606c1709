import { describe, expect, it } from 'vitest';
import { isChurnError } from '../../../src/common/errors.js';
import { checkRequestLimits, requestLimits } from '../../../src/cri/request-limits.js';

/** The error checkRequestLimits throws for `request`, or undefined. */
function refusal(
  request: unknown,
  rpc = 'RunPodSandbox',
): { code: string; message: string } | undefined {
  try {
    checkRequestLimits(rpc, request);
    return undefined;
  } catch (err) {
    if (!isChurnError(err)) throw err;
    return { code: err.code, message: err.message };
  }
}

const pod = (metadata: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  config: {
    metadata: { name: 'p', namespace: 'ns', uid: 'u', attempt: 0, ...metadata },
    hostname: '',
    logDirectory: '',
    labels: {},
    annotations: {},
    ...extra,
  },
  runtimeHandler: '',
});

const container = (config: Record<string, unknown>) => ({
  podSandboxId: 'a'.repeat(64),
  config: { metadata: { name: 'c', attempt: 0 }, command: [], args: [], envs: [], ...config },
  sandboxConfig: null,
});

describe('checkRequestLimits', () => {
  it('passes a request at every limit', () => {
    expect(
      refusal(
        pod(
          { name: 'n'.repeat(requestLimits.nameBytes) },
          {
            logDirectory: `/${'d'.repeat(requestLimits.pathBytes - 1)}`,
            labels: { ['k'.repeat(requestLimits.keyBytes)]: 'v' },
          },
        ),
      ),
    ).toBeUndefined();
    expect(
      refusal(
        container({ args: ['a'.repeat(requestLimits.argBytes)], envs: [{ key: 'K', value: 'v' }] }),
        'CreateContainer',
      ),
    ).toBeUndefined();
  });

  it('refuses a name one byte over, naming the RPC, the proto field and the limit', () => {
    const r = refusal(pod({ name: 'n'.repeat(requestLimits.nameBytes + 1) }));
    expect(r?.code).toBe('INVALID_ARGUMENT');
    expect(r?.message).toContain('RunPodSandbox: config.metadata.name is 254 bytes');
    expect(r?.message).toContain('limit of 253');
  });

  it('counts bytes, not characters', () => {
    // 127 × 'é' is 127 characters but 254 bytes.
    expect(refusal(pod({ name: 'é'.repeat(127) }))?.code).toBe('INVALID_ARGUMENT');
  });

  it('refuses an id over its limit', () => {
    const r = refusal({ podSandboxId: 'x'.repeat(requestLimits.idBytes + 1) }, 'StopPodSandbox');
    expect(r?.message).toMatch(/^StopPodSandbox: pod_sandbox_id is 129 bytes/);
  });

  it('refuses a NUL byte in a path or an argument', () => {
    expect(refusal(pod({}, { logDirectory: '/tmp/a\0b' }))?.message).toContain(
      'config.log_directory contains a NUL byte',
    );
    expect(refusal(container({ command: ['sh\0'] }), 'CreateContainer')?.message).toContain(
      'config.command[0] contains a NUL byte',
    );
    expect(
      refusal(container({ envs: [{ key: 'A', value: 'x\0' }] }), 'CreateContainer')?.message,
    ).toContain('config.envs[0].value contains a NUL byte');
  });

  it('bounds command, args and env together', () => {
    const arg = 'a'.repeat(requestLimits.argBytes - 1);
    const n = Math.ceil(requestLimits.argvEnvTotalBytes / requestLimits.argBytes);
    const r = refusal(
      container({ args: Array.from({ length: n }, () => arg), envs: [{ key: 'K', value: 'v' }] }),
      'CreateContainer',
    );
    expect(r?.message).toContain('over 1048576 bytes together');
  });

  it('bounds a label key, all labels and all annotations', () => {
    expect(
      refusal(pod({}, { labels: { ['k'.repeat(requestLimits.keyBytes + 1)]: 'v' } }))?.message,
    ).toMatch(/config\.labels key "k+" is 318 bytes/);
    const labels = Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [`k${String(i)}`, 'v'.repeat(1000)]),
    );
    expect(refusal(pod({}, { labels }))?.message).toContain('config.labels hold over 65536 bytes');
    const annotations = Object.fromEntries(
      Array.from({ length: 300 }, (_, i) => [`k${String(i)}`, 'v'.repeat(1000)]),
    );
    expect(refusal(pod({}, { annotations }))?.message).toContain(
      'config.annotations hold over 262144 bytes',
    );
    // 100 KiB of annotations is within Kubernetes' own limit.
    const fine = Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [`k${String(i)}`, 'v'.repeat(1000)]),
    );
    expect(refusal(pod({}, { annotations: fine }))).toBeUndefined();
  });

  it('bounds the entries of a list, any other string and the nesting depth', () => {
    expect(
      refusal(
        container({ mounts: Array.from({ length: requestLimits.entries + 1 }, () => ({})) }),
        'CreateContainer',
      )?.message,
    ).toContain('config.mounts has 4097 entries');
    expect(
      refusal(pod({}, { dnsConfig: { servers: ['s'.repeat(requestLimits.otherStringBytes + 1)] } }))
        ?.message,
    ).toContain('config.dns_config.servers[0] is 65537 bytes');
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < requestLimits.depth + 2; i++) deep = { inner: deep };
    expect(refusal(deep)?.message).toContain('is nested too deeply');
  });
});
