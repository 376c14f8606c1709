import { describe, expect, it } from 'vitest';
import { ociSpec, type OciSpecInput } from '../../../src/runtime/executors/oci-spec.js';

const base: OciSpecInput = {
  rootfs: '/state/images/rootfs/abc',
  binds: [],
  args: ['sleep', '3600'],
  env: ['PATH=/bin'],
  cwd: '/',
  hostname: 'pod-1',
  pid: { kind: 'new' },
  ipc: { kind: 'join', pid: 42 },
  uts: { kind: 'join', pid: 42 },
  network: { kind: 'host' },
  cgroupsPath: '/churn/c1',
};

type Spec = {
  process: { args: string[]; noNewPrivileges: boolean; terminal: boolean };
  root: { path: string; readonly: boolean };
  hostname?: string;
  mounts: { destination: string; type: string; source: string; options?: string[] }[];
  linux: { namespaces: { type: string; path?: string }[]; cgroupsPath: string };
};

describe('ociSpec', () => {
  it('joins the sandbox namespaces, keeps the host network and a read-only root', () => {
    const spec = ociSpec(base) as unknown as Spec;
    expect(spec.linux.namespaces).toEqual([
      { type: 'mount' },
      { type: 'pid' },
      { type: 'ipc', path: '/proc/42/ns/ipc' },
      { type: 'uts', path: '/proc/42/ns/uts' },
    ]);
    expect(spec.linux.namespaces.some((n) => n.type === 'network')).toBe(false);
    expect(spec.root).toEqual({ path: base.rootfs, readonly: true });
    expect(spec.hostname).toBeUndefined();
    expect(spec.process).toMatchObject({
      args: ['sleep', '3600'],
      noNewPrivileges: true,
      terminal: false,
    });
    expect(spec.linux.cgroupsPath).toBe('/churn/c1');
    const byDest = new Map(spec.mounts.map((m) => [m.destination, m]));
    expect(byDest.get('/proc')?.type).toBe('proc');
    expect(byDest.get('/sys')).toMatchObject({ type: 'bind', source: '/sys' });
    expect(byDest.get('/sys')?.options).toContain('ro');
    expect(byDest.get('/tmp')?.type).toBe('tmpfs');
  });

  it("makes or joins the pod's own network namespace, with a fresh read-only sysfs", () => {
    const pause = ociSpec({ ...base, network: { kind: 'new' } }) as unknown as Spec;
    expect(pause.linux.namespaces).toContainEqual({ type: 'network' });
    const container = ociSpec({ ...base, network: { kind: 'join', pid: 42 } }) as unknown as Spec;
    expect(container.linux.namespaces).toContainEqual({
      type: 'network',
      path: '/proc/42/ns/net',
    });
    const sys = container.mounts.find((m) => m.destination === '/sys');
    expect(sys).toMatchObject({ type: 'sysfs', source: 'sysfs' });
    expect(sys?.options).toContain('ro');
  });

  it('makes new namespaces with the hostname for a sandbox, binds host dirs read-only, shares host pid', () => {
    const sandbox = ociSpec({
      ...base,
      ipc: { kind: 'new' },
      uts: { kind: 'new' },
      binds: [{ source: '/usr', destination: '/usr' }],
    }) as unknown as Spec;
    expect(sandbox.hostname).toBe('pod-1');
    expect(sandbox.linux.namespaces.map((n) => n.type)).toEqual(['mount', 'pid', 'ipc', 'uts']);
    expect(sandbox.mounts.find((m) => m.destination === '/usr')).toMatchObject({
      type: 'bind',
      source: '/usr',
    });
    expect(sandbox.mounts.find((m) => m.destination === '/usr')?.options).toContain('ro');
    const hostPid = ociSpec({ ...base, pid: { kind: 'host' } }) as unknown as Spec;
    expect(hostPid.linux.namespaces.map((n) => n.type)).toEqual(['mount', 'ipc', 'uts']);
    expect(hostPid.mounts.find((m) => m.destination === '/proc')).toMatchObject({
      type: 'bind',
      source: '/proc',
    });
  });

  it('writes a writable root, CRI mounts over the defaults, root propagation and sysctls', () => {
    const spec = ociSpec({
      ...base,
      readonlyRoot: false,
      tmpfsTmp: false,
      mounts: [{ destination: '/dev/shm', type: 'bind', source: '/h', options: ['rbind', 'rw'] }],
      rootfsPropagation: 'rslave',
      sysctl: { 'kernel.shm_rmid_forced': '1' },
    }) as unknown as Spec & {
      linux: { rootfsPropagation?: string; sysctl?: Record<string, string> };
    };
    expect(spec.root).toEqual({ path: base.rootfs, readonly: false });
    expect(spec.mounts.some((m) => m.destination === '/tmp')).toBe(false);
    expect(spec.mounts.filter((m) => m.destination === '/dev/shm')).toEqual([
      { destination: '/dev/shm', type: 'bind', source: '/h', options: ['rbind', 'rw'] },
    ]);
    expect(spec.mounts.at(-1)?.destination).toBe('/dev/shm');
    expect(spec.linux.rootfsPropagation).toBe('rslave');
    expect(spec.linux.sysctl).toEqual({ 'kernel.shm_rmid_forced': '1' });
    const plain = JSON.parse(JSON.stringify(ociSpec(base))) as { linux: object };
    expect(Object.keys(plain.linux)).not.toContain('sysctl');
    expect(Object.keys(plain.linux)).not.toContain('rootfsPropagation');
  });
});
