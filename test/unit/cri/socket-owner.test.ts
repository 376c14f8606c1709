import { describe, expect, it } from 'vitest';
import { listeningInodes } from '../../../src/cri/socket-owner.js';

const table = [
  'Num       RefCount Protocol Flags    Type St Inode Path',
  '0000000000000000: 00000002 00000000 00010000 0001 01 123456 /run/containerd/containerd.sock',
  '0000000000000000: 00000003 00000000 00000000 0001 03 123457 /run/containerd/containerd.sock',
  '0000000000000000: 00000002 00000000 00010000 0001 01 222 /tmp/other.sock',
  '0000000000000000: 00000002 00000000 00010000 0005 01 333 @abstract',
  '0000000000000000: 00000002 00000000 00000000 0002 01 444',
  '0000000000000000: 00000002 00000000 00010000 0001 01 555 /tmp/with space.sock',
  '',
].join('\n');

describe('listeningInodes', () => {
  it('finds the listening socket bound to the path, not its connections', () => {
    expect(listeningInodes(table, '/run/containerd/containerd.sock')).toEqual(['123456']);
  });

  it('matches paths with spaces and nothing for unknown paths', () => {
    expect(listeningInodes(table, '/tmp/with space.sock')).toEqual(['555']);
    expect(listeningInodes(table, '/tmp/none.sock')).toEqual([]);
  });
});
