import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  explainBadDuration,
  formatDurationHuman,
  formatDurationMs,
  parseDurationMs,
  parseRatio,
} from '../../../src/scenario/units.js';

describe('parseDurationMs', () => {
  it.each([
    ['250ms', 250],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['500us', 0.5],
    ['500µs', 0.5],
    ['.5s', 500],
    ['0s', 0],
    [' 30 s ', 30_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(['30', '-5s', '30sec', '2d', 's', '', '1.s', '1e3ms', '5 ms 3'])('refuses %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });

  it('parses back what formatDurationMs prints, for any whole number of ms', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 24 * 3_600_000 }), (ms) => {
        expect(parseDurationMs(formatDurationMs(ms))).toBe(ms);
      }),
    );
  });
});

describe('formatDurationMs', () => {
  it.each([
    [0, '0s'],
    [1500, '1500ms'],
    [2000, '2s'],
    [120_000, '2m'],
    [7_200_000, '2h'],
    [0.5, '500us'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDurationMs(ms)).toBe(text);
  });
});

describe('formatDurationHuman', () => {
  it.each([
    [0, '0s'],
    [250, '250ms'],
    [0.5, '500us'],
    [1000, '1s'],
    [1500, '1.5s'],
    [46_414, '46.414s'],
    [394_521, '6m34.521s'],
    [324_900, '5m24.9s'],
    [300_000, '5m'],
    [3_600_000, '1h'],
    [5_400_000, '1h30m'],
    [3_605_000, '1h0m5s'],
    [21_900_000, '6h5m'],
    [2_073_600_000, '576h'],
    [61_999.6, '1m2s'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDurationHuman(ms)).toBe(text);
  });

  it('adds its parts back up to the milliseconds, for any whole number of ms', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 30 * 24 * 3_600_000 }), (ms) => {
        const parts = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(formatDurationHuman(ms));
        expect(parts).not.toBeNull();
        const [, h = '0', m = '0', s = '0'] = parts!;
        expect(Number(h) * 3_600_000 + Number(m) * 60_000 + Math.round(Number(s) * 1000)).toBe(ms);
      }),
    );
  });
});

describe('explainBadDuration', () => {
  it.each([
    ['-5s', '"-5s" is negative: a duration must be 0 or more'],
    ['30', '"30" has no unit: write e.g. 30s or 30ms'],
    ['30sec', '"30sec" has an unknown unit "sec": use us, ms, s, m or h (did you mean "30s"?)'],
    [
      '5 minutes',
      '"5 minutes" has an unknown unit "minutes": use us, ms, s, m or h (did you mean "5m"?)',
    ],
    ['10MS', '"10MS" has an unknown unit "MS": use us, ms, s, m or h (did you mean "10ms"?)'],
    ['3xyz', '"3xyz" has an unknown unit "xyz": use us, ms, s, m or h'],
    ['2d', '"2d": days are not a unit; write 48h'],
    ['soon', '"soon" is not a duration: use a number and a unit, ms, s, m or h (e.g. 250ms, 30s)'],
  ])('%j: %s', (text, message) => {
    expect(explainBadDuration(text)).toBe(message);
  });
});

describe('parseRatio', () => {
  it.each([
    ['0.1%', 0.001],
    ['10 %', 0.1],
    ['0.5', 0.5],
    [0.25, 0.25],
    ['150%', 1.5],
    [0, 0],
  ])('%j is %d', (text, ratio) => {
    expect(parseRatio(text)).toBeCloseTo(ratio, 12);
  });

  it.each(['-1%', 'ten', '%', '', -0.1, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses %j',
    (text) => {
      expect(parseRatio(text)).toBeUndefined();
    },
  );
});
