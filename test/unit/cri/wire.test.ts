/**
 * Request decoding/validation and response encoding, through the real protobuf codec of the
 * CRI services (serialize as a client would, deserialize as the server does), so the shapes
 * tested are those that arrive off the wire: defaults filled, int64 as strings, enums by name.
 */
import { describe, expect, it } from 'vitest';
import { isChurnError } from '../../../src/common/errors.js';
import type { Container, PodSandbox } from '../../../src/runtime/types.js';
import {
  encodeContainerStatus,
  encodeImage,
  encodePodSandboxStatus,
} from '../../../src/cri/core-to-wire.js';
import { criPackage } from '../../../src/cri/proto-package.js';
import {
  decodeContainerConfig,
  decodeContainerFilter,
  decodePodFilter,
  decodePodSandboxConfig,
  decodeTimeoutSec,
  requireString,
} from '../../../src/cri/wire-to-core.js';
import type { RuntimeRpc } from '../../../src/cri/client.js';

/** `request` as the server's handler receives it. */
function overTheWire(method: RuntimeRpc, request: object): unknown {
  const def = criPackage().RuntimeService.service[method];
  return def.requestDeserialize(def.requestSerialize(request));
}

/** `response` as a client receives it. */
function responseOverTheWire(method: RuntimeRpc, response: object): unknown {
  const def = criPackage().RuntimeService.service[method];
  return def.responseDeserialize(def.responseSerialize(response));
}

function invalidMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isChurnError(err, 'INVALID_ARGUMENT')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

const podConfig = {
  metadata: { name: 'p1', uid: 'u1', namespace: 'ns', attempt: 2 },
  logDirectory: '/var/log/pods/p1',
  labels: { 'churn.run': 'r1' },
  linux: {
    securityContext: { namespaceOptions: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } },
  },
};

describe('RunPodSandbox request', () => {
  it('decodes a host-network pod', () => {
    const req = overTheWire('RunPodSandbox', { config: podConfig, runtimeHandler: 'runc' }) as {
      config: never;
    };
    expect(decodePodSandboxConfig('RunPodSandbox', 'config', req.config)).toEqual({
      metadata: { name: 'p1', uid: 'u1', namespace: 'ns', attempt: 2 },
      hostname: '',
      logDirectory: '/var/log/pods/p1',
      labels: { 'churn.run': 'r1' },
      annotations: {},
      networkMode: 'NODE',
      pidMode: 'CONTAINER',
      ipcMode: 'POD',
    });
  });

  it('reads absent namespace options as POD, the proto default', () => {
    const req = overTheWire('RunPodSandbox', { config: { metadata: { name: 'p' } } }) as {
      config: never;
    };
    const decoded = decodePodSandboxConfig('RunPodSandbox', 'config', req.config);
    expect([decoded.networkMode, decoded.pidMode, decoded.ipcMode]).toEqual(['POD', 'POD', 'POD']);
    expect(decoded).not.toHaveProperty('privileged');
  });

  it('decodes a privileged sandbox', () => {
    const req = overTheWire('RunPodSandbox', {
      config: { metadata: { name: 'p' }, linux: { securityContext: { privileged: true } } },
    }) as { config: never };
    expect(decodePodSandboxConfig('RunPodSandbox', 'config', req.config).privileged).toBe(true);
  });

  it.each([
    [{}, 'RunPodSandbox: config must be set'],
    [{ config: {} }, 'RunPodSandbox: config.metadata must be set'],
    [{ config: { metadata: { uid: 'u' } } }, 'RunPodSandbox: config.metadata.name must be set'],
  ])('refuses %j', (request, message) => {
    const req = overTheWire('RunPodSandbox', request) as { config: never };
    expect(
      invalidMessage(() => decodePodSandboxConfig('RunPodSandbox', 'config', req.config)),
    ).toBe(message);
  });
});

describe('CreateContainer request', () => {
  const config = {
    metadata: { name: 'c1', attempt: 1 },
    image: { image: 'docker.io/library/busybox:latest' },
    command: ['sleep'],
    args: ['3600'],
    envs: [{ key: 'A', value: 'b=c' }],
    labels: { l: 'v' },
    logPath: 'c1.log',
  };

  it('decodes a container config', () => {
    const req = overTheWire('CreateContainer', {
      podSandboxId: 'p',
      config,
      sandboxConfig: podConfig,
    }) as {
      config: never;
      sandboxConfig: never;
    };
    expect(decodeContainerConfig('CreateContainer', req.config)).toEqual({
      metadata: { name: 'c1', attempt: 1 },
      image: 'docker.io/library/busybox:latest',
      command: ['sleep'],
      args: ['3600'],
      workingDir: '',
      envs: [{ key: 'A', value: 'b=c' }],
      labels: { l: 'v' },
      annotations: {},
      logPath: 'c1.log',
      pidMode: 'POD', // no namespace options: the proto default, as containerd reads them
    });
    expect(
      decodePodSandboxConfig('CreateContainer', 'sandbox_config', req.sandboxConfig, true)
        .networkMode,
    ).toBe('NODE');
  });

  it('decodes privileged and capabilities, and a group with a user', () => {
    const req = overTheWire('CreateContainer', {
      podSandboxId: 'p',
      config: {
        ...config,
        linux: {
          securityContext: {
            privileged: true,
            capabilities: { addCapabilities: ['NET_ADMIN'], dropCapabilities: ['ALL'] },
            runAsUser: { value: 1001 },
            runAsGroup: { value: 1002 },
          },
        },
      },
    }) as { config: never };
    expect(decodeContainerConfig('CreateContainer', req.config)).toMatchObject({
      privileged: true,
      addCapabilities: ['NET_ADMIN'],
      dropCapabilities: ['ALL'],
    });
  });

  it('decodes the user, groups, no_new_privs and masked and read-only paths', () => {
    const req = overTheWire('CreateContainer', {
      podSandboxId: 'p',
      config: {
        ...config,
        linux: {
          securityContext: {
            runAsUser: { value: 1000 },
            runAsUsername: 'nobody',
            runAsGroup: { value: 0 },
            supplementalGroups: [1234, '5678'],
            noNewPrivs: true,
            maskedPaths: ['/bin/ls'],
            readonlyPaths: ['/tmp'],
          },
        },
      },
    }) as { config: never };
    expect(decodeContainerConfig('CreateContainer', req.config)).toMatchObject({
      runAsUser: 1000,
      runAsUsername: 'nobody',
      runAsGroup: 0,
      supplementalGroups: [1234, 5678],
      noNewPrivs: true,
      maskedPaths: ['/bin/ls'],
      readonlyPaths: ['/tmp'],
    });
    const plain = overTheWire('CreateContainer', {
      podSandboxId: 'p',
      config: { ...config, linux: { securityContext: {} } },
    }) as { config: never };
    const decoded = decodeContainerConfig('CreateContainer', plain.config);
    for (const key of [
      'runAsUser',
      'runAsGroup',
      'supplementalGroups',
      'noNewPrivs',
      'maskedPaths',
    ]) {
      expect(decoded).not.toHaveProperty(key);
    }
  });

  it.each([
    [{ runAsUser: { value: -1 } }, 'run_as_user'],
    [{ runAsUser: { value: 1 }, supplementalGroups: [4294967296] }, 'supplemental_groups[0]'],
    [{ maskedPaths: ['proc/kcore'] }, 'masked_paths[0]'],
  ])('refuses %j naming the field', (securityContext, field) => {
    const req = overTheWire('CreateContainer', {
      podSandboxId: 'p',
      config: { ...config, linux: { securityContext } },
    }) as { config: never };
    expect(() => decodeContainerConfig('CreateContainer', req.config)).toThrow(field);
  });

  it('decodes mounts, a read-only root and the pid mode; a TARGET pid names its target', () => {
    const req = overTheWire('CreateContainer', {
      podSandboxId: 'p',
      config: {
        ...config,
        mounts: [
          { containerPath: '/data', hostPath: '/srv/data', readonly: true },
          {
            containerPath: '/m',
            hostPath: '/mnt/m',
            selinuxRelabel: true,
            propagation: 'PROPAGATION_BIDIRECTIONAL',
          },
        ],
        linux: {
          securityContext: {
            readonlyRootfs: true,
            namespaceOptions: { pid: 'TARGET', targetId: 'c0' },
          },
        },
      },
    }) as { config: never };
    expect(decodeContainerConfig('CreateContainer', req.config)).toMatchObject({
      mounts: [
        {
          containerPath: '/data',
          hostPath: '/srv/data',
          readonly: true,
          selinuxRelabel: false,
          propagation: 'PRIVATE',
        },
        {
          containerPath: '/m',
          hostPath: '/mnt/m',
          readonly: false,
          selinuxRelabel: true,
          propagation: 'BIDIRECTIONAL',
        },
      ],
      readonlyRootfs: true,
      pidMode: 'TARGET',
      pidTargetId: 'c0',
    });
  });

  it("decodes the pod's sysctls", () => {
    const req = overTheWire('RunPodSandbox', {
      config: { ...podConfig, linux: { sysctls: { 'kernel.shm_rmid_forced': '1' } } },
    }) as { config: never };
    expect(decodePodSandboxConfig('RunPodSandbox', 'config', req.config).sysctls).toEqual({
      'kernel.shm_rmid_forced': '1',
    });
  });

  it('tolerates a missing sandbox_config, as containerd does', () => {
    const req = overTheWire('CreateContainer', { podSandboxId: 'p', config }) as {
      sandboxConfig: never;
    };
    const decoded = decodePodSandboxConfig(
      'CreateContainer',
      'sandbox_config',
      req.sandboxConfig,
      true,
    );
    expect(decoded.logDirectory).toBe('');
    expect(decoded.metadata.name).toBe('');
  });

  it.each([
    [{}, 'CreateContainer: config must be set'],
    [{ config: { image: { image: 'x' } } }, 'CreateContainer: config.metadata must be set'],
    [
      { config: { metadata: { name: '' }, image: { image: 'x' } } },
      'CreateContainer: config.metadata.name must be set',
    ],
    [{ config: { metadata: { name: 'c' } } }, 'CreateContainer: config.image.image must be set'],
    [
      { config: { metadata: { name: 'c' }, image: { image: '' } } },
      'CreateContainer: config.image.image must be set',
    ],
    [
      {
        config: {
          metadata: { name: 'c' },
          image: { image: 'x' },
          envs: [{ key: 'A' }, { value: 'v' }],
        },
      },
      'CreateContainer: config.envs[1].key must be set',
    ],
    [
      {
        config: {
          metadata: { name: 'c' },
          image: { image: 'x' },
          linux: { securityContext: { runAsGroup: { value: 1002 } } },
        },
      },
      'CreateContainer: config.linux.security_context.run_as_group is set without run_as_user or run_as_username',
    ],
    [
      {
        config: {
          metadata: { name: 'c' },
          image: { image: 'x' },
          mounts: [{ containerPath: 'rel', hostPath: '/h' }],
        },
      },
      'CreateContainer: config.mounts[0].container_path must be absolute',
    ],
    [
      {
        config: {
          metadata: { name: 'c' },
          image: { image: 'x' },
          mounts: [{ containerPath: '/c', hostPath: '' }],
        },
      },
      'CreateContainer: config.mounts[0].host_path must be absolute',
    ],
    [
      {
        config: {
          metadata: { name: 'c' },
          image: { image: 'x' },
          mounts: [{ containerPath: '/c', hostPath: '/h', propagation: 7 }],
        },
      },
      'CreateContainer: config.mounts[0].propagation is unknown: 7',
    ],
    [
      {
        config: {
          metadata: { name: 'c' },
          image: { image: 'x' },
          linux: { securityContext: { namespaceOptions: { pid: 'TARGET' } } },
        },
      },
      'CreateContainer: config.linux.security_context.namespace_options.target_id must be set',
    ],
  ])('refuses %j', (request, message) => {
    const req = overTheWire('CreateContainer', request) as { config: never };
    expect(invalidMessage(() => decodeContainerConfig('CreateContainer', req.config))).toBe(
      message,
    );
  });

  it('names the field of a missing id', () => {
    const req = overTheWire('StartContainer', {}) as { containerId: string };
    expect(
      invalidMessage(() => requireString('StartContainer', 'container_id', req.containerId)),
    ).toBe('StartContainer: container_id must be set');
  });
});

describe('filters', () => {
  it('decodes pod filters by id, state and labels; empty fields do not filter', () => {
    const req = overTheWire('ListPodSandbox', {
      filter: { state: { state: 'SANDBOX_NOTREADY' }, labelSelector: { a: 'b' } },
    }) as { filter: never };
    expect(decodePodFilter(req.filter)).toEqual({ state: 'NOTREADY', labelSelector: { a: 'b' } });
    expect(
      decodePodFilter((overTheWire('ListPodSandbox', {}) as { filter: never }).filter),
    ).toEqual({});
    const byId = overTheWire('ListPodSandbox', { filter: { id: 'abc' } }) as { filter: never };
    expect(decodePodFilter(byId.filter)).toEqual({ id: 'abc' });
  });

  it('decodes container filters; state CREATED (enum 0) is a filter when present', () => {
    const req = overTheWire('ListContainers', {
      filter: { podSandboxId: 'p', state: { state: 'CONTAINER_CREATED' } },
    }) as { filter: never };
    expect(decodeContainerFilter(req.filter)).toEqual({ podId: 'p', state: 'CREATED' });
  });

  it('refuses an unknown state value', () => {
    const req = overTheWire('ListContainers', { filter: { state: { state: 7 } } }) as {
      filter: never;
    };
    expect(invalidMessage(() => decodeContainerFilter(req.filter))).toContain('filter.state.state');
  });
});

describe('timeouts', () => {
  it('reads seconds from int64 and treats negative as 0', () => {
    expect(
      decodeTimeoutSec(
        (overTheWire('StopContainer', { timeout: 30 }) as { timeout: string }).timeout,
      ),
    ).toBe(30);
    expect(
      decodeTimeoutSec(
        (overTheWire('StopContainer', { timeout: -3 }) as { timeout: string }).timeout,
      ),
    ).toBe(0);
    expect(
      decodeTimeoutSec((overTheWire('StopContainer', {}) as { timeout: string }).timeout),
    ).toBe(0);
  });
});

describe('responses', () => {
  const createdAtNs = 1_732_812_345_123_456_789n;
  const pod: PodSandbox = {
    id: 'p1',
    config: {
      metadata: { name: 'p', uid: 'u', namespace: 'n', attempt: 0 },
      hostname: '',
      logDirectory: '',
      labels: { a: 'b' },
      annotations: {},
      networkMode: 'NODE',
      pidMode: 'CONTAINER',
      ipcMode: 'POD',
    },
    state: 'NOTREADY',
    createdAtNs,
    runtimeHandler: 'runc',
  };

  it('keeps int64 nanosecond timestamps exact and maps states and namespaces', () => {
    const res = responseOverTheWire('PodSandboxStatus', {
      status: encodePodSandboxStatus(pod),
    }) as {
      status: {
        createdAt: string;
        state: string;
        linux: { namespaces: { options: { network: string } } };
      };
    };
    expect(BigInt(res.status.createdAt)).toBe(createdAtNs);
    expect(res.status.state).toBe('SANDBOX_NOTREADY');
    expect(res.status.linux.namespaces.options.network).toBe('NODE');
  });

  it('encodes a container status with exit code, reason, times and log path', () => {
    const container: Container = {
      id: 'c1',
      podId: 'p1',
      config: {
        metadata: { name: 'c', attempt: 0 },
        image: 'busybox',
        command: [],
        args: [],
        workingDir: '',
        envs: [],
        labels: {},
        annotations: {},
        logPath: 'c.log',
        mounts: [
          {
            containerPath: '/c',
            hostPath: '/h',
            readonly: false,
            selinuxRelabel: false,
            propagation: 'HOST_TO_CONTAINER',
          },
        ],
      },
      imageRef: 'sha256:abc',
      state: 'EXITED',
      createdAtNs,
      startedAtNs: createdAtNs + 1n,
      finishedAtNs: createdAtNs + 2n,
      exitCode: 137,
      reason: 'Error',
      message: '',
      pid: 0,
      logPathAbs: '/logs/c.log',
    };
    const res = responseOverTheWire('ContainerStatus', {
      status: encodeContainerStatus(container),
    }) as {
      status: Record<string, unknown>;
    };
    expect(res.status).toMatchObject({
      state: 'CONTAINER_EXITED',
      exitCode: 137,
      reason: 'Error',
      logPath: '/logs/c.log',
      imageRef: 'sha256:abc',
      startedAt: (createdAtNs + 1n).toString(),
      finishedAt: (createdAtNs + 2n).toString(),
      mounts: [
        {
          containerPath: '/c',
          hostPath: '/h',
          readonly: false,
          selinuxRelabel: false,
          propagation: 'PROPAGATION_HOST_TO_CONTAINER',
        },
      ],
    });
  });

  it('reports a numeric image user as uid and a named one as username', () => {
    const image = {
      id: 'sha256:1',
      repoTags: ['docker.io/library/busybox:latest'],
      repoDigests: [],
      sizeBytes: 1234,
      spec: { user: '1000:1000', entrypoint: [], cmd: [], env: [], workingDir: '' },
      builtin: false,
    };
    expect(encodeImage(image)).toMatchObject({ uid: { value: '1000' }, username: '' });
    expect(encodeImage({ ...image, spec: { ...image.spec, user: 'nobody' } })).toMatchObject({
      uid: null,
      username: 'nobody',
    });
  });
});
