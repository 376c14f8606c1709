/**
 * int64/uint64 on the wire ↔ bigint and number. The loader gives 64-bit fields as decimal
 * strings; timestamps (nanoseconds since the epoch, ~1.7e18) exceed 2^53, so they become
 * bigint and never pass through a double.
 */
import { ChurnError } from '../common/errors.js';

/** A decoded int64 field (a decimal string; '' or absent reads as 0) as a bigint. */
export function int64ToBigInt(value: string | number | null | undefined): bigint {
  if (value === undefined || value === null || value === '') return 0n;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new ChurnError('INTERNAL', `int64 ${value} arrived as an imprecise number`);
    }
    return BigInt(value);
  }
  return BigInt(value);
}

/** A bigint as an int64 field value (decimal string, exact). */
export function bigIntToInt64(value: bigint): string {
  return value.toString();
}

/**
 * A decoded int64 that counts something small (seconds, bytes, a uid) as a number; values
 * beyond 2^53 saturate at Number.MAX_SAFE_INTEGER rather than silently rounding.
 */
export function int64ToNumber(value: string | number | null | undefined): number {
  const big = int64ToBigInt(value);
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  if (big > max) return Number.MAX_SAFE_INTEGER;
  if (big < -max) return -Number.MAX_SAFE_INTEGER;
  return Number(big);
}
