// Parsers of /proc files, on texts shaped as proc(5) describes them.
import { describe, expect, it } from 'vitest';
import { conmonSocketDir, parseAuxv, parseStat, shimAddress } from '../../../src/metrics/procfs.js';

/** A /proc/<pid>/stat line with the fields the sampler reads set, the rest 0. */
function statLine(
  pid: number,
  comm: string,
  f: {
    state?: string;
    ppid?: number;
    utime?: number;
    stime?: number;
    cutime?: number;
    threads?: number;
    start?: number;
    rss?: number;
  },
): string {
  const fields: (string | number)[] = [pid, `(${comm})`, f.state ?? 'S', f.ppid ?? 1];
  while (fields.length < 52) fields.push(0);
  fields[13] = f.utime ?? 0;
  fields[14] = f.stime ?? 0;
  fields[15] = f.cutime ?? 0;
  fields[19] = f.threads ?? 1;
  fields[21] = f.start ?? 0;
  fields[23] = f.rss ?? 0;
  return `${fields.join(' ')}\n`;
}

describe('parseStat', () => {
  it('reads comm, state, parent, own CPU ticks, threads, start time and resident pages', () => {
    const stat = parseStat(
      statLine(812, 'containerd', {
        ppid: 1,
        utime: 1200,
        stime: 300,
        cutime: 99_999,
        threads: 31,
        start: 4242,
        rss: 12_800,
      }),
    );
    expect(stat).toEqual({
      comm: 'containerd',
      state: 'S',
      ppid: 1,
      cpuTicks: 1500, // children's time (cutime) is not the daemon's own
      childCpuTicks: 99_999, // but it is kept apart: contention counts it as the target's
      threads: 31,
      startTime: '4242',
      rssPages: 12_800,
    });
  });

  it('keeps a comm with spaces and parentheses whole', () => {
    expect(parseStat(statLine(7, 'a) (b c', { state: 'Z' }))).toMatchObject({
      comm: 'a) (b c',
      state: 'Z',
    });
  });

  it('refuses truncated text', () => {
    expect(parseStat('12 (x) S 1 2')).toBeUndefined();
    expect(parseStat('')).toBeUndefined();
  });
});

describe('parseAuxv', () => {
  it('finds AT_PAGESZ and AT_CLKTCK among 64-bit pairs, up to AT_NULL', () => {
    const pairs: [bigint, bigint][] = [
      [33n, 0x7ffe0000n],
      [6n, 16384n],
      [17n, 250n],
      [0n, 0n],
      [6n, 1n], // after AT_NULL: ignored
    ];
    const bytes = new Uint8Array(pairs.length * 16);
    const view = new DataView(bytes.buffer);
    pairs.forEach(([t, v], i) => {
      view.setBigUint64(i * 16, t, true);
      view.setBigUint64(i * 16 + 8, v, true);
    });
    expect(parseAuxv(bytes)).toEqual({ pageSizeBytes: 16384, clockTicksPerSec: 250 });
    expect(parseAuxv(new Uint8Array(0))).toEqual({});
  });
});

describe('shimAddress', () => {
  it('reads -address in the forms containerd shims are started with', () => {
    const shim = ['/usr/bin/containerd-shim-runc-v2', '-namespace', 'k8s.io', '-id', 'abc'];
    expect(shimAddress([...shim, '-address', '/run/containerd/containerd.sock'])).toBe(
      '/run/containerd/containerd.sock',
    );
    expect(shimAddress([...shim, '--address=/tmp/c.sock'])).toBe('/tmp/c.sock');
    expect(shimAddress([...shim, '-address'])).toBeUndefined();
    expect(shimAddress(shim)).toBeUndefined();
  });
});

describe('conmonSocketDir', () => {
  it("reads --socket-dir-path as CRI-O starts conmon, and nothing else's", () => {
    const conmon = ['/usr/bin/conmon', '-b', '/run/bundle', '-c', 'abc', '--exit-dir', '/x'];
    expect(conmonSocketDir([...conmon, '--socket-dir-path', '/var/run/crio', '-u', 'abc'])).toBe(
      '/var/run/crio',
    );
    expect(conmonSocketDir([...conmon, '--socket-dir-path=/tmp/crio'])).toBe('/tmp/crio');
    expect(conmonSocketDir([...conmon, '--socket-dir-path'])).toBeUndefined();
    expect(conmonSocketDir(conmon)).toBeUndefined();
  });
});
