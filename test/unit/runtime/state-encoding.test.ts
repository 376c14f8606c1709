import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeState, encodeState } from '../../../src/runtime/state-codec.js';

describe('state encoding', () => {
  it('round-trips bigints, strings that look like numbers and nested objects', () => {
    fc.assert(
      fc.property(
        fc.record({
          ns: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
          labels: fc.dictionary(
            fc.oneof(fc.string(), fc.constantFrom('$bigint', '$$bigint', '$bigintx')),
            fc.string(),
          ),
          list: fc.array(fc.oneof(fc.string(), fc.integer(), fc.bigInt())),
        }),
        (value) => {
          expect(decodeState(encodeState(value))).toEqual(value);
        },
      ),
    );
  });

  it('keeps labels whose keys spell the encoding', () => {
    const value = {
      labels: { $bigint: '5' },
      more: { $$bigint: 'x', $bigintish: 'y', a: 'b' },
      n: 5n,
    };
    expect(decodeState(encodeState(value))).toEqual(value);
  });
});
