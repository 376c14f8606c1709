import { describe, expect, it } from 'vitest';
import { majorMinor } from '../../../src/runtime/executors/host-devices.js';
import { defaultCapabilities } from '../../../src/runtime/executors/oci-capabilities.js';
import {
  containerSecurity,
  defaultMaskedPaths,
  defaultReadonlyPaths,
  type HostPrivileges,
  type OciDevice,
} from '../../../src/runtime/executors/oci-security.js';
import { ociSpec, type OciSpecInput } from '../../../src/runtime/executors/oci-spec.js';

const null0: OciDevice = {
  path: '/dev/null',
  type: 'c',
  major: 1,
  minor: 3,
  fileMode: 0o666,
  uid: 0,
  gid: 0,
};
const host: HostPrivileges = {
  allCapabilities: ['CAP_CHOWN', 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN'],
  hostDevices: [null0],
};
const base: OciSpecInput = {
  rootfs: '/state/images/rootfs/abc',
  binds: [],
  args: ['sh'],
  env: ['PATH=/bin'],
  cwd: '/',
  hostname: 'pod-1',
  pid: { kind: 'new' },
  ipc: { kind: 'join', pid: 42 },
  uts: { kind: 'join', pid: 42 },
  network: { kind: 'join', pid: 42 },
  cgroupsPath: '/churn/c1',
};

type Spec = {
  process: {
    user: { uid: number; gid: number; additionalGids: number[] };
    capabilities: Record<string, string[]>;
    noNewPrivileges: boolean;
  };
  mounts: { destination: string; options?: string[] }[];
  linux: {
    maskedPaths: string[];
    readonlyPaths: string[];
    devices: OciDevice[];
    resources: { devices: { allow: boolean; access: string }[] };
  };
};

const specOf = (security?: OciSpecInput['security']): Spec =>
  ociSpec({ ...base, ...(security === undefined ? {} : { security }) }) as unknown as Spec;

describe('the OCI process security of a container, as containerd 1.6 sets it', () => {
  it("gives the pause process containerd's default spec", () => {
    const spec = specOf();
    expect(spec.process.user).toEqual({ uid: 0, gid: 0, additionalGids: [0] });
    expect(spec.process.capabilities).toEqual({
      bounding: defaultCapabilities,
      effective: defaultCapabilities,
      permitted: defaultCapabilities,
    });
    expect(spec.process.noNewPrivileges).toBe(true);
    expect(spec.linux.maskedPaths).toEqual(defaultMaskedPaths);
    expect(spec.linux.readonlyPaths).toEqual(defaultReadonlyPaths);
  });

  it('runs a container with nothing asked as root with the default capabilities, no masked paths, privileges allowed', () => {
    const spec = specOf(containerSecurity({}, undefined, host));
    expect(spec.process.user).toEqual({ uid: 0, gid: 0, additionalGids: [0] });
    expect(spec.process.capabilities.bounding).toEqual(defaultCapabilities);
    expect(spec.process.capabilities).not.toHaveProperty('ambient');
    expect(spec.process.noNewPrivileges).toBe(false);
    expect(spec.linux.maskedPaths).toEqual([]);
    expect(spec.linux.readonlyPaths).toEqual([]);
    expect(spec.linux.devices).toEqual([]);
    expect(spec.linux.resources.devices).toEqual([{ allow: false, access: 'rwm' }]);
    expect(spec.mounts.find((m) => m.destination === '/sys')?.options).toContain('ro');
  });

  it('applies the resolved user, no_new_privs and exactly the given masked and read-only paths', () => {
    const spec = specOf(
      containerSecurity(
        {
          noNewPrivs: true,
          maskedPaths: ['/bin/ls'],
          readonlyPaths: ['/tmp'],
          addCapabilities: ['NET_ADMIN'],
        },
        { uid: 1000, gid: 1000, additionalGids: [1000, 1234, 50000], named: true },
        host,
      ),
    );
    expect(spec.process.user).toEqual({
      uid: 1000,
      gid: 1000,
      additionalGids: [1000, 1234, 50000],
    });
    expect(spec.process.noNewPrivileges).toBe(true);
    expect(spec.process.capabilities.effective).toContain('CAP_NET_ADMIN');
    expect(spec.linux.maskedPaths).toEqual(['/bin/ls']);
    expect(spec.linux.readonlyPaths).toEqual(['/tmp']);
  });

  it('gives a privileged container every capability, no masked paths, a writable /sys and the host devices', () => {
    const spec = specOf(
      containerSecurity(
        { privileged: true, maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'] },
        undefined,
        host,
      ),
    );
    expect(spec.process.capabilities.bounding).toEqual(host.allCapabilities);
    expect(spec.linux.maskedPaths).toEqual([]);
    expect(spec.linux.readonlyPaths).toEqual([]);
    expect(spec.linux.devices).toEqual([null0]);
    expect(spec.linux.resources.devices).toEqual([{ allow: true, access: 'rwm' }]);
    expect(spec.mounts.find((m) => m.destination === '/sys')?.options).not.toContain('ro');
  });

  it('decodes a dev_t into major and minor', () => {
    expect(majorMinor(0x0103n)).toEqual({ major: 1, minor: 3 });
    // glibc's makedev(259, 65536) and makedev(4096, 0).
    expect(majorMinor(0x1001_0300n)).toEqual({ major: 259, minor: 65536 });
    expect(majorMinor(0x1000_0000_0000n)).toEqual({ major: 4096, minor: 0 });
  });
});
