/**
 * Numeric flags parsed from the text the user typed, so a bad value is named as typed
 * (`--alpha "abc"`), not as yargs' NaN. Use as an option's `coerce` with `type: 'string'`:
 *
 *   .option('alpha', { type: 'string', coerce: numberFlag('--alpha'), default: '0.05' })
 *
 * Kept free of heavy imports: `churn run` parses its flags with these without loading the
 * commands they come from (compare's statistics, for one).
 */
import { ChurnError } from '../common/errors.js';

/** A coerce function turning `--flag TEXT` into a finite number; USAGE naming the text otherwise. */
export function numberFlag(flag: string): (text: unknown) => number {
  return (text) => {
    const raw: unknown = Array.isArray(text) ? (text as unknown[])[text.length - 1] : text;
    if (typeof raw === 'number' && Number.isFinite(raw)) return raw;
    const trimmed = typeof raw === 'string' ? raw.trim() : '';
    const value = trimmed === '' ? Number.NaN : Number(trimmed);
    if (!Number.isFinite(value)) {
      throw new ChurnError('USAGE', `${flag} ${JSON.stringify(trimmed)}: not a number`);
    }
    return value;
  };
}

/** `5%`, `5` (percent) or `0.5%` → 5, 5, 0.5. Throws USAGE naming `flag`. */
export function parsePercent(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  if (m === null)
    throw new ChurnError('USAGE', `${flag} "${text}" is not a percentage: write e.g. 5%`);
  return Number(m[1]);
}
