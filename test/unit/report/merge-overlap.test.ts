// Whether merge parts ran at the same time: overlap as a share of the shorter window.
import { describe, expect, it } from 'vitest';
import {
  overlapShare,
  overlapWarning,
  type PartWindow,
} from '../../../src/report/merge-overlap.js';

const part = (source: string, startS: number, endS: number): PartWindow => ({
  source,
  startMs: startS * 1000,
  endMs: endS * 1000,
});

describe('merge overlap', () => {
  it.each<[PartWindow, PartWindow, number]>([
    [part('a', 0, 10), part('b', 0, 10), 1],
    [part('a', 0, 10), part('b', 5, 15), 0.5],
    [part('a', 0, 10), part('b', 6, 16), 0.4],
    [part('a', 0, 100), part('b', 40, 50), 1], // the short one ran inside the long one
    [part('a', 0, 10), part('b', 20, 30), 0],
    [part('a', 0, 10), part('b', 10, 20), 0],
    [part('a', 5, 5), part('b', 0, 10), 1],
  ])('overlapShare(%j, %j) = %d', (a, b, share) => {
    expect(overlapShare(a, b)).toBeCloseTo(share, 9);
    expect(overlapShare(b, a)).toBeCloseTo(share, 9);
  });

  it('says nothing for parts that ran side by side', () => {
    expect(overlapWarning([part('a', 0, 10), part('b', 1, 11), part('c', 0, 9)])).toBe(undefined);
    expect(overlapWarning([part('a', 0, 10), part('b', 5, 15)])).toBe(undefined);
  });

  it('names each pair that did not run together', () => {
    expect(
      overlapWarning([part('a.json', 0, 10), part('b.json', 1, 11), part('c.json', 60, 70)]),
    ).toBe(
      'the parts did not run at the same time (a.json and c.json overlap 0%; b.json and c.json overlap 0% of the shorter run): throughput adds and timelines align as if they had; merge parts of one run',
    );
  });

  it('names at most `limit` pairs', () => {
    const parts = [0, 1, 2, 3].map((i) => part(`p${i}`, i * 100, i * 100 + 10));
    expect(overlapWarning(parts, 2)).toMatch(
      /p0 and p1 overlap 0%; p0 and p2 overlap 0%; and 4 more pairs/,
    );
  });
});
