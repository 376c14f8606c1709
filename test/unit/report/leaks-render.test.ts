// How the renderers write the leak audit: slopes, counts not measured, a run too short for a
// trend, and the details capped with a count of the rest.
import { describe, expect, it } from 'vitest';
import { formatSlope } from '../../../src/report/render/format.js';
import {
  leakDetails,
  leakedTotal,
  leakLine,
  targetGrowthLine,
} from '../../../src/report/render/leaks.js';
import type { ReportLeaks } from '../../../src/report/schema.js';

const clean: ReportLeaks = {
  pods: 0,
  containers: 0,
  podIds: [],
  containerIds: [],
  processes: 0,
  mounts: 0,
  processList: [],
  mountList: [],
  preexisting: { processes: 0, mounts: 0 },
  roots: ['/tmp/core'],
  target: null,
  checks: [],
  notes: [],
};

describe('leak rendering', () => {
  it.each([
    [5, '+5.00%/h'],
    [-0.5, '-0.50%/h'],
    [0, '0%/h'],
    [12.34, '+12.3%/h'],
    [5906.4, '+5906%/h'],
  ])('formatSlope(%d) = %s', (pct, text) => {
    expect(formatSlope(pct)).toBe(text);
  });

  it('says what was not measured, and has no total then', () => {
    const leaks = { ...clean, processes: null, mounts: null, notes: ['no /proc'] };
    expect(leakLine(leaks)).toBe(
      'leaks: 0 pods, 0 containers, processes: not measured, mounts: not measured left after cleanup',
    );
    expect(leakedTotal(leaks)).toBeNull();
    expect(leakedTotal(clean)).toBe(0);
    expect(leakDetails(leaks)).toEqual(['not checked: no /proc']);
  });

  it('a target sampled too briefly has no trend to show', () => {
    const leaks: ReportLeaks = {
      ...clean,
      target: {
        name: 'churn-core',
        pid: 1,
        fromMs: 1000,
        toMs: 8000,
        points: 8,
        rssBytes: null,
        openFds: null,
        threads: null,
      },
    };
    expect(targetGrowthLine(leaks)).toBe(
      'target churn-core, 7.0s after warm-up: too short for a trend (it takes a minute of samples)',
    );
    expect(targetGrowthLine(clean)).toBeUndefined();
  });

  it('lists at most `max` of each kind and counts the rest', () => {
    const ids = Array.from({ length: 50 }, (_, i) => `c${i}`);
    const leaks = { ...clean, containers: 120, containerIds: ids };
    expect(leakDetails(leaks, 3)).toEqual([
      'container c0',
      'container c1',
      'container c2',
      '… and 117 more',
    ]);
  });
});
