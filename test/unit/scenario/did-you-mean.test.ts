import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closestMatches, didYouMean, editDistance } from '../../../src/scenario/did-you-mean.js';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['driver', 'drivr', 1],
    ['strat', 'start', 1],
    ['concurency', 'concurrency', 1],
    ['kitten', 'sitting', 3],
  ])('%j → %j is %d', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
  });

  it('is zero only for equal strings, symmetric, and at most the longer length', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        const d = editDistance(a, b);
        expect(d === 0).toBe(a === b);
        expect(editDistance(b, a)).toBe(d);
        expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
    );
  });
});

describe('closestMatches', () => {
  const keys = ['driver', 'endpoint', 'runtimeHandler', 'callTimeout', 'executor'];

  it('finds a typo, ignoring case', () => {
    expect(closestMatches('drivr', keys)).toEqual(['driver']);
    expect(closestMatches('Driver', keys)).toEqual(['driver']);
    expect(closestMatches('runtimehandler', keys)).toEqual(['runtimeHandler']);
  });

  it('suggests nothing for a word that is not close to any', () => {
    expect(closestMatches('colour', keys)).toEqual([]);
    expect(closestMatches('x', ['y', 'zz'])).toEqual(['y']);
    expect(closestMatches('img', ['image'])).toEqual([]);
  });

  it('gives every candidate of a tie', () => {
    expect(closestMatches('p98', ['p50', 'p90', 'p95', 'p99', 'p999'])).toEqual([
      'p90',
      'p95',
      'p99',
    ]);
    expect(didYouMean('p98', ['p90', 'p95', 'p99'])).toBe(' (did you mean "p90", "p95" or "p99"?)');
    expect(didYouMean('p100', ['p10'])).toBe(' (did you mean "p10"?)');
    expect(didYouMean('zzz', ['p10'])).toBe('');
  });
});
