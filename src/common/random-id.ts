/** Random identifiers. */
import { randomBytes } from 'node:crypto';

/** A random lowercase hex string of `bytes` bytes (64 hex chars for 32, as container ids are). */
export function randomHexId(bytes = 32): string {
  return randomBytes(bytes).toString('hex');
}
