import { describe, expect, it } from 'vitest';
import { isChurnError } from '../../../src/common/errors.js';
import { parseStartAt } from '../../../src/cli/start-at.js';

describe('parseStartAt', () => {
  it.each([
    ['2026-12-06T10:00:00Z', Date.UTC(2026, 11, 6, 10, 0, 0)],
    ['2026-12-06T10:00:00.250Z', Date.UTC(2026, 11, 6, 10, 0, 0, 250)],
    ['2026-12-06T12:00:00+02:00', Date.UTC(2026, 11, 6, 10, 0, 0)],
    ['2026-12-06T10:00Z', Date.UTC(2026, 11, 6, 10, 0, 0)],
  ])('%s', (text, ms) => {
    expect(parseStartAt(text)).toBe(ms);
  });

  it.each(['2026-12-06T10:00:00', 'tomorrow', '1733479200000', '2026-13-06T10:00:00Z', ''])(
    'refuses %j with USAGE naming the flag',
    (text) => {
      let error: unknown;
      try {
        parseStartAt(text);
      } catch (err) {
        error = err;
      }
      expect(isChurnError(error) && error.code).toBe('USAGE');
      expect((error as Error).message).toContain(`--start-at "${text}"`);
    },
  );
});
