import { describe, expect, it } from 'vitest';
import { OciSpecTemplate } from '../../../src/drivers/containerd/spec-template.js';
import { pauseSecurity } from '../../../src/runtime/executors/oci-security.js';
import { ociSpec, type OciSpecInput } from '../../../src/runtime/executors/oci-spec.js';

const fixed: Omit<OciSpecInput, 'hostname' | 'cgroupsPath'> = {
  rootfs: 'rootfs',
  binds: [],
  args: ['sh', '-c', 'echo "quoted" \\ back'],
  env: ['PATH=/usr/bin:/bin', 'A=é ✓'],
  cwd: '/',
  pid: { kind: 'new' },
  ipc: { kind: 'new' },
  uts: { kind: 'new' },
  network: { kind: 'new' },
  security: pauseSecurity,
  readonlyRoot: false,
  tmpfsTmp: false,
};

/** What the template must equal: the whole spec built and serialized for this container. */
function whole(input: Omit<OciSpecInput, 'hostname' | 'cgroupsPath'>, id: string): string {
  return JSON.stringify(ociSpec({ ...input, hostname: id, cgroupsPath: `/ns/${id}` }));
}

describe('OciSpecTemplate', () => {
  it("gives each container's spec byte for byte as building it whole would", () => {
    const template = new OciSpecTemplate(fixed);
    for (const id of ['churn-0123456789abcdef', 'x', 'with "quotes" and \\']) {
      const bytes = template.bytes({ hostname: id, cgroupsPath: `/ns/${id}` });
      expect(bytes.toString()).toBe(whole(fixed, id));
    }
  });

  it('is right for a command or variable that holds what the template marks its fields with', () => {
    const tricky = {
      ...fixed,
      args: ['echo', '\u0000churn-hostname\u0000'],
      env: ['X=\u0000churn-cgroups-path\u0000'],
    };
    const template = new OciSpecTemplate(tricky);
    const bytes = template.bytes({ hostname: 'churn-1', cgroupsPath: '/ns/churn-1' });
    expect(bytes.toString()).toBe(whole(tricky, 'churn-1'));
  });

  it('differs between containers only in the hostname and the cgroup path', () => {
    const template = new OciSpecTemplate(fixed);
    const a = JSON.parse(
      template.bytes({ hostname: 'a', cgroupsPath: '/ns/a' }).toString(),
    ) as Record<string, unknown> & { linux: Record<string, unknown> };
    const b = JSON.parse(
      template.bytes({ hostname: 'b', cgroupsPath: '/ns/b' }).toString(),
    ) as Record<string, unknown> & { linux: Record<string, unknown> };
    expect([a['hostname'], a.linux['cgroupsPath']]).toEqual(['a', '/ns/a']);
    expect([b['hostname'], b.linux['cgroupsPath']]).toEqual(['b', '/ns/b']);
    expect({ ...a, hostname: 'b', linux: { ...a.linux, cgroupsPath: '/ns/b' } }).toEqual(b);
  });
});
