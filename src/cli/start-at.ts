/** `--start-at`: the wall-clock instant a run's phases begin at (every node of a cluster run alike). */
import { ChurnError } from '../common/errors.js';

const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Milliseconds since the epoch of an ISO 8601 instant with a zone (`2026-12-06T10:00:00Z`,
 * `…+02:00`). Throws USAGE naming the flag for anything else: a time without a zone would mean
 * different instants on nodes in different zones.
 */
export function parseStartAt(text: string, flag = '--start-at'): number {
  const ms = isoInstant.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new ChurnError(
      'USAGE',
      `${flag} "${text}": use an ISO 8601 instant with a zone, e.g. 2026-12-06T10:00:00Z`,
    );
  }
  return ms;
}
