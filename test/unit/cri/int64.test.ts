import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bigIntToInt64, int64ToBigInt, int64ToNumber } from '../../../src/cri/int64.js';

describe('int64 conversions', () => {
  it('round-trips every int64 exactly through the wire string', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (value) => {
        expect(int64ToBigInt(bigIntToInt64(value))).toBe(value);
      }),
    );
  });

  it('keeps nanosecond timestamps beyond 2^53 exact', () => {
    const ns = 1_732_812_345_123_456_789n;
    expect(Number(ns) === Number(ns + 1n)).toBe(true); // a double cannot tell them apart
    expect(int64ToBigInt(bigIntToInt64(ns + 1n)) - int64ToBigInt(bigIntToInt64(ns))).toBe(1n);
  });

  it('reads absent values as 0', () => {
    expect(int64ToBigInt('')).toBe(0n);
    expect(int64ToBigInt(undefined)).toBe(0n);
    expect(int64ToBigInt(null)).toBe(0n);
    expect(int64ToNumber(undefined)).toBe(0);
  });

  it('refuses an imprecise number instead of rounding', () => {
    expect(() => int64ToBigInt(2 ** 60)).toThrow(/imprecise/);
    expect(int64ToBigInt(42)).toBe(42n);
  });

  it('saturates small-count conversions instead of rounding', () => {
    expect(int64ToNumber('30')).toBe(30);
    expect(int64ToNumber('-5')).toBe(-5);
    expect(int64ToNumber('9223372036854775807')).toBe(Number.MAX_SAFE_INTEGER);
    expect(int64ToNumber('-9223372036854775808')).toBe(-Number.MAX_SAFE_INTEGER);
  });
});
