// Pure /proc parsers shared by the core, the CRI client and the sampler.
import { describe, expect, it } from 'vitest';
import {
  parseListeningUnixSockets,
  parseProcStat,
  parseSchedstatWaitNs,
} from '../../../src/common/procfs-parse.js';

describe('parseProcStat', () => {
  it('cuts comm at the last parenthesis and reads fields by proc(5) number', () => {
    const rest = Array.from({ length: 50 }, (_, i) => String(i + 3));
    rest[0] = 'S';
    const stat = parseProcStat(`42 (a (weird) name) ${rest.join(' ')}`);
    expect(stat).toMatchObject({
      comm: 'a (weird) name',
      state: 'S',
      ppid: 4,
      pgrp: 5,
      utimeTicks: 14,
      stimeTicks: 15,
      cutimeTicks: 16,
      cstimeTicks: 17,
      threads: 20,
      startTime: '22',
      rssPages: 24,
    });
  });

  it('refuses text without a command name or too few fields', () => {
    expect(parseProcStat('garbage')).toBeUndefined();
    expect(parseProcStat('1 (x) S 0 1')).toBeUndefined();
  });
});

describe('parseListeningUnixSockets', () => {
  it('keeps listening sockets with a path (Flags has 0x10000), paths with spaces whole', () => {
    const text = [
      'Num       RefCount Protocol Flags    Type St Inode Path',
      '0000000000000000: 00000002 00000000 00010000 0001 01 396635 /run/containerd/containerd.sock.ttrpc',
      '0000000000000000: 00000002 00000000 00010000 0001 01 396637 /run/containerd/containerd.sock',
      '0000000000000000: 00000003 00000000 00000000 0001 03 409831 /run/containerd/containerd.sock',
      '0000000000000000: 00000003 00000000 00000000 0001 03  1056',
      '0000000000000000: 00000002 00000000 00010000 0005 01 5000',
      '0000000000000000: 00000002 00000000 00010000 0001 01 7000 /tmp/a dir/x.sock',
      '',
    ].join('\n');
    expect([...parseListeningUnixSockets(text)]).toEqual([
      ['396635', '/run/containerd/containerd.sock.ttrpc'],
      ['396637', '/run/containerd/containerd.sock'],
      ['7000', '/tmp/a dir/x.sock'],
    ]);
  });
});

describe('parseSchedstatWaitNs', () => {
  it('reads the run-queue wait, the second of schedstat’s three fields', () => {
    expect(parseSchedstatWaitNs('445481247 2516074718 953\n')).toBe(2516074718);
  });

  it('refuses text that is not three counts', () => {
    expect(parseSchedstatWaitNs('')).toBeUndefined();
    expect(parseSchedstatWaitNs('1 2')).toBeUndefined();
    expect(parseSchedstatWaitNs('1 -2 3')).toBeUndefined();
    expect(parseSchedstatWaitNs('a b c')).toBeUndefined();
  });
});
