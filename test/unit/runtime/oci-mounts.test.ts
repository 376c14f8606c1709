import { describe, expect, it } from 'vitest';
import { parseMountInfo } from '../../../src/common/procfs-parse.js';
import {
  criBindMounts,
  mergeMounts,
  mountOf,
  propagationProblem,
  type ResolvedMount,
} from '../../../src/runtime/executors/oci-mounts.js';

function mount(over: Partial<ResolvedMount> = {}): ResolvedMount {
  return {
    containerPath: '/data',
    hostPath: '/srv/data',
    source: '/srv/data',
    readonly: false,
    selinuxRelabel: false,
    propagation: 'PRIVATE',
    ...over,
  };
}

describe('criBindMounts', () => {
  it('binds each resolved source rbind, rprivate, rw or ro, and needs no root propagation', () => {
    const out = criBindMounts([
      mount({ source: '/real/data', hostPath: '/link' }),
      mount({ containerPath: '/ro', readonly: true }),
    ]);
    expect(out.mounts).toEqual([
      {
        destination: '/data',
        type: 'bind',
        source: '/real/data',
        options: ['rbind', 'rprivate', 'rw'],
      },
      {
        destination: '/ro',
        type: 'bind',
        source: '/srv/data',
        options: ['rbind', 'rprivate', 'ro'],
      },
    ]);
    expect(out.rootfsPropagation).toBeUndefined();
  });

  it('makes HOST_TO_CONTAINER rslave and BIDIRECTIONAL rshared, the root rshared over rslave', () => {
    const slave = criBindMounts([mount({ propagation: 'HOST_TO_CONTAINER' })]);
    expect(slave.mounts[0]?.options).toEqual(['rbind', 'rslave', 'rw']);
    expect(slave.rootfsPropagation).toBe('rslave');
    const both = criBindMounts([
      mount({ containerPath: '/a', propagation: 'BIDIRECTIONAL' }),
      mount({ containerPath: '/b', propagation: 'HOST_TO_CONTAINER' }),
    ]);
    expect(both.mounts.map((m) => m.options?.[1])).toEqual(['rshared', 'rslave']);
    expect(both.rootfsPropagation).toBe('rshared');
  });

  it('orders mounts by depth, shallowest first, keeping the given order among equals', () => {
    const out = criBindMounts([
      mount({ containerPath: '/a/b/c' }),
      mount({ containerPath: '/x/' }),
      mount({ containerPath: '/a//b' }),
      mount({ containerPath: '/y' }),
    ]);
    expect(out.mounts.map((m) => m.destination)).toEqual(['/x/', '/y', '/a//b', '/a/b/c']);
  });
});

describe('mergeMounts', () => {
  const defaults = [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs' },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm' },
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs' },
  ];

  it('drops a default mount at the destination of a CRI mount, and all under /dev for /dev', () => {
    const cri = [
      { destination: '/tmp/', type: 'bind', source: '/h' },
      { destination: '/dev', type: 'bind', source: '/dev' },
    ];
    expect(mergeMounts(defaults, cri).map((m) => m.destination)).toEqual([
      '/proc',
      '/tmp/',
      '/dev',
    ]);
    expect(mergeMounts(defaults, [])).toEqual(defaults);
  });
});

const mountinfo = [
  '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
  '30 22 0:25 / /tmp rw,nosuid - tmpfs tmpfs rw',
  '40 30 254:0 /tmp/x/mnt /tmp/x/mnt rw,relatime shared:7 - ext4 /dev/vda rw',
  '41 30 254:0 /tmp/y /tmp/y rw,relatime master:7 - ext4 /dev/vda rw',
  '42 30 0:26 / /tmp/with\\040space rw - tmpfs tmpfs rw',
  'garbage',
].join('\n');

describe('mountinfo', () => {
  it('parses mount points (unescaped) and optional fields', () => {
    const infos = parseMountInfo(mountinfo);
    expect(infos.map((i) => i.mountPoint)).toEqual([
      '/',
      '/tmp',
      '/tmp/x/mnt',
      '/tmp/y',
      '/tmp/with space',
    ]);
    expect(infos[0]?.optional).toEqual(['shared:1']);
    expect(infos[1]?.optional).toEqual([]);
  });

  it('finds the mount a path is on: the longest mount point containing it', () => {
    const infos = parseMountInfo(mountinfo);
    expect(mountOf(infos, '/tmp/x/mnt/sub')?.mountPoint).toBe('/tmp/x/mnt');
    expect(mountOf(infos, '/tmp/x/mntother')?.mountPoint).toBe('/tmp');
    expect(mountOf(infos, '/usr/bin')?.mountPoint).toBe('/');
  });

  it('needs a shared mount for BIDIRECTIONAL, shared or slave for HOST_TO_CONTAINER', () => {
    const infos = parseMountInfo(mountinfo);
    const on = (source: string) => mountOf(infos, source);
    const both = (source: string) =>
      propagationProblem(mount({ source, propagation: 'BIDIRECTIONAL' }), on(source));
    const slave = (source: string) =>
      propagationProblem(mount({ source, propagation: 'HOST_TO_CONTAINER' }), on(source));
    expect(both('/tmp/x/mnt')).toBeUndefined();
    expect(both('/tmp/y')).toBe(
      'path "/tmp/y" is mounted on "/tmp/y" but it is not a shared mount (needed for propagation BIDIRECTIONAL)',
    );
    expect(slave('/tmp/y/z')).toBeUndefined();
    expect(slave('/tmp/x/mnt')).toBeUndefined();
    expect(slave('/tmp/other')).toMatch(/mounted on "\/tmp" but it is not a shared or slave mount/);
    expect(propagationProblem(mount({ source: '/tmp/other' }), on('/tmp/other'))).toBeUndefined();
  });
});
