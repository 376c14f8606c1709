// History rows, trend arrows and sparklines.
import { describe, expect, it } from 'vitest';
import { arrows, historyRow, scenarioHistories, sparkline } from '../../../src/report/history.js';
import { defaultOps, syntheticReport } from '../../support/synthetic-report.js';

describe('history', () => {
  it('draws sparklines from min to max, with gaps for missing runs', () => {
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8])).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([5, null, 5])).toBe('▄ ▄');
    expect(sparkline([])).toBe('');
  });

  it('points arrows at changes beyond ±5% from the run before', () => {
    expect(arrows([100, 104, 120, 100, null, 90], 5)).toEqual([' ', '→', '↑', '↓', ' ', ' ']);
  });

  it('takes the key figures of a run, and groups runs by scenario, oldest first', () => {
    const r = syntheticReport({
      seed: 1,
      ops: defaultOps({ create: { errorRate: 0.1 } }),
      durationMs: 2000,
    });
    const row = historyRow('x.json', r, ['base']);
    expect(row).toMatchObject({
      runId: 'syn1',
      cycles: r.operations.cycle!.count,
      cycleP99Ms: r.operations.cycle!.latencyMs!.p99,
      cyclesPerSec: r.operations.cycle!.throughputPerSec,
      tags: ['base'],
    });
    expect(row.errorRate).toBeGreaterThan(0.005);
    const later = { ...row, start: '2025-04-01T00:00:00.000Z', runId: 'later' };
    const other = { ...row, scenario: 'a-first', runId: 'other' };
    const h = scenarioHistories([later, row, other]);
    expect(h.map((s) => [s.scenario, s.rows.map((x) => x.runId)])).toEqual([
      ['a-first', ['other']],
      ['synthetic', ['syn1', 'later']],
    ]);
  });
});
