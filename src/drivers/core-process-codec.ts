/**
 * How values cross between the `builtin` driver and its core process: the IPC channel speaks
 * JSON (measured faster than Node's `advanced` serialization for these small messages: about
 * 90 against 160 µs a round trip on a loaded 2-core machine), and JSON has no bigint (the
 * core's nanosecond timestamps) nor bytes (exec output). Those two are tagged on the way out
 * and restored on the way in; everything else the core answers is plain JSON already.
 *
 * A tag is an object whose only key is `$bigint` or `$bytes`. User data can look like one (a
 * label or annotation map `{ "$bigint": "x" }`), so every key of a crossing object that starts
 * with `$` gains one more `$` on the way out and loses it on the way in: a tag is never data.
 */

/** A bigint as it crosses. */
interface TaggedBigint {
  readonly $bigint: string;
}
/** Bytes as they cross. */
interface TaggedBytes {
  readonly $bytes: string;
}

/** `value` with every bigint and Uint8Array (Buffer) replaced by a JSON-safe tag. */
export function encodeValue(value: unknown): unknown {
  if (typeof value === 'bigint') return { $bigint: value.toString() } satisfies TaggedBigint;
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array)
    return {
      $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'),
    } satisfies TaggedBytes;
  if (Array.isArray(value)) return value.map(encodeValue);
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (field !== undefined) out[key.startsWith('$') ? `$${key}` : key] = encodeValue(field);
  }
  return out;
}

/** `value` with the tags of {@link encodeValue} turned back into bigints and Buffers. */
export function decodeValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(decodeValue);
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1) {
    if (typeof record.$bigint === 'string') return BigInt(record.$bigint);
    if (typeof record.$bytes === 'string') return Buffer.from(record.$bytes, 'base64');
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) out[key.startsWith('$$') ? key.slice(1) : key] = decodeValue(record[key]);
  return out;
}
