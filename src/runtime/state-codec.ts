/** How the state's objects are written as JSON: bigints tagged, tag-like keys escaped. */

/**
 * JSON with bigints, encoded as `{"$bigint": "123"}`. Keys of plain objects that start with
 * `$bigint` (a label could) are escaped with one more `$`, so decoding is unambiguous.
 */
export function encodeState(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return { $bigint: v.toString() };
    if (isPlainObject(v) && Object.keys(v).some(isEscapable)) {
      return Object.fromEntries(
        Object.entries(v).map(([k, x]) => [isEscapable(k) ? `$${k}` : k, x]),
      );
    }
    return v;
  });
}

/** Inverse of {@link encodeState}. */
export function decodeState(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (!isPlainObject(v)) return v;
    const keys = Object.keys(v);
    const raw = v.$bigint;
    if (keys.length === 1 && typeof raw === 'string') return BigInt(raw);
    if (keys.some(isEscaped)) {
      return Object.fromEntries(
        Object.entries(v).map(([k, x]) => [isEscaped(k) ? k.slice(1) : k, x]),
      );
    }
    return v;
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isEscapable(key: string): boolean {
  return /^\$+bigint/.test(key);
}

function isEscaped(key: string): boolean {
  return /^\$\$+bigint/.test(key);
}
