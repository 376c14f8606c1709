// Which stage the live line shows, and the dropped share of arrivals: pure, as tables.
import { describe, expect, it } from 'vitest';
import { droppedRatio, liveStage, type LiveStageInput } from '../../../src/load/live-status.js';

const base: LiveStageInput = {
  stage: 'running',
  stopRequested: false,
  elapsedMs: 5_000,
  totalMs: 10_000,
  inflight: 4,
};

describe('liveStage', () => {
  const rows: [string, Partial<LiveStageInput>, string][] = [
    ['phases running in time', {}, 'running'],
    ['a stop was asked for', { stopRequested: true }, 'draining'],
    ['plan time up, cycles in flight', { elapsedMs: 10_000 }, 'draining'],
    ['16 s into a 10 s plan, 8 in flight', { elapsedMs: 16_000, inflight: 8 }, 'draining'],
    ['plan time up, nothing in flight', { elapsedMs: 10_500, inflight: 0 }, 'running'],
    ['the runner drains', { stage: 'draining', elapsedMs: 1_000 }, 'draining'],
    ['the runner cleans up', { stage: 'cleaning', stopRequested: true }, 'cleaning'],
  ];
  it.each(rows)('%s → %s', (_name, change, expected) => {
    expect(liveStage({ ...base, ...change })).toBe(expected);
  });
});

describe('droppedRatio', () => {
  const rows: [number, number, number][] = [
    [0, 0, 0],
    [100, 0, 0],
    [405, 19_595, 0.97975],
    [0, 10, 1],
  ];
  it.each(rows)('started %i, dropped %i → %f', (started, dropped, expected) => {
    expect(droppedRatio({ cycles: { started, succeeded: 0, failed: 0 }, dropped })).toBeCloseTo(
      expected,
      6,
    );
  });
});
