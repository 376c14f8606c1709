import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../../../src/drivers/core-process-codec.js';

/** What crossing the IPC channel does to a value: the codec, then JSON both ways. */
function cross(value: unknown): unknown {
  return decodeValue(JSON.parse(JSON.stringify(encodeValue(value))));
}

describe('core process codec', () => {
  it('carries bigint timestamps and exec output bytes across JSON', () => {
    const status = {
      id: 'c1',
      createdAtNs: 1_700_000_000_123_456_789n,
      labels: { a: 'b' },
      exit: { stdout: Buffer.from('out\n'), stderr: Buffer.alloc(0) },
      list: [1n, 'x', null],
    };
    const back = cross(status) as typeof status;
    expect(back).toEqual(status);
    expect(Buffer.isBuffer(back.exit.stdout)).toBe(true);
    expect(typeof back.createdAtNs).toBe('bigint');
  });

  it('drops undefined fields as JSON does, and leaves look-alike user data with more keys alone', () => {
    expect(cross({ a: undefined, b: 1 })).toEqual({ b: 1 });
    expect(cross({ $bigint: '1', other: 2 })).toEqual({ $bigint: '1', other: 2 });
  });

  it('leaves user data shaped like a tag alone (a label map with one $-key)', () => {
    const labels = [
      { $bigint: 'x' },
      { $bigint: '12' },
      { $bytes: 'AAAA' },
      { $$bytes: 'y' },
      { $: '' },
    ];
    for (const map of labels) expect(cross({ labels: map })).toEqual({ labels: map });
  });

  it('round-trips any JSON-shaped value with bigints and bytes in it', () => {
    const leaf = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.bigInt(),
      fc.uint8Array().map((a) => Buffer.from(a)),
    );
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node')),
        fc.dictionary(
          fc.string().filter((k) => k !== '__proto__'),
          tie('node'),
          { noNullPrototype: true },
        ),
      ),
    })).node;
    fc.assert(
      fc.property(tree, (value) => {
        expect(cross(value)).toEqual(value);
      }),
    );
  });
});
