/**
 * Numeric flags parsed from the text the user typed, so a bad value is named as typed
 * (`--alpha "abc"`), not as yargs' NaN. Use as an option's `coerce` with `type: 'string'`:
 *
 *   .option('alpha', { type: 'string', coerce: numberFlag('--alpha'), default: '0.05' })
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
