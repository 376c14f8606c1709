import { describe, expect, it } from 'vitest';
import { planRun, workersAt, workerStartMs } from '../../../src/load/phases.js';
import { scenarioSchema, type Phase } from '../../../src/scenario/schema.js';

function load(phases: unknown[], extra: Record<string, unknown> = {}) {
  return scenarioSchema.parse({ load: { phases, ...extra } }).load;
}

type Closed = Extract<Phase, { kind: 'closed' }>;
const closed = (concurrency: number, rampTo: number, durationMs = 10_000): Closed => ({
  kind: 'closed',
  name: 'p',
  durationMs,
  concurrency,
  rampTo,
  record: true,
  iterationsPerWorker: undefined,
});

describe('phases', () => {
  it('lays phases end to end with their kinds, rates and expected cycles', () => {
    const plan = planRun(
      load(
        [
          { name: 'warm', duration: '10s', concurrency: 2, record: false },
          { pause: '5s' },
          { duration: '60s', arrivalRate: 10, rampTo: 50 },
          { duration: '30s', arrivalRate: 5, arrivals: 'poisson' },
        ],
        { maxInflight: 64, drainTimeout: '5s' },
      ),
    );
    expect(plan.phases.map((p) => [p.kind, p.name, p.startMs, p.endMs, p.record])).toEqual([
      ['closed', 'warm', 0, 10_000, false],
      ['pause', 'phase-2', 10_000, 15_000, true],
      ['open', 'phase-3', 15_000, 75_000, true],
      ['open', 'phase-4', 75_000, 105_000, true],
    ]);
    expect(plan.totalMs).toBe(105_000);
    const open = plan.phases[2]!;
    expect(open.kind === 'open' && [open.fromPerSec, open.toPerSec, open.expectedCycles]).toEqual([
      10, 50, 1800,
    ]);
    expect(plan.expectedOpenLoopCycles).toBe(1800 + 150);
    expect(plan).toMatchObject({ maxInflight: 64, drainTimeoutMs: 5000, iterations: undefined });
    // Plain data: what --dry-run prints survives JSON.
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  it('caps expected cycles by iterations and closed phases by iterationsPerWorker', () => {
    const plan = planRun(
      load(
        [
          { duration: '10s', concurrency: 3, rampTo: 5, iterationsPerWorker: 4 },
          { duration: '100s', arrivalRate: 10 },
        ],
        {
          iterations: 500,
        },
      ),
    );
    expect(plan.phases[0]!.kind === 'closed' && plan.phases[0]!.maxCycles).toBe(20);
    expect(plan.expectedOpenLoopCycles).toBe(500);
  });

  it('says when the iterations cap ends the run before its phases do', () => {
    // 1/s → 4/s over 5m is 750 arrivals, then 4/s: the 1000th arrival is due 62.5s in.
    const phases = [
      { duration: '5m', arrivalRate: 1, rampTo: 4, record: false },
      { pause: '10s' },
      { duration: '6h', arrivalRate: 4 },
    ];
    expect(planRun(load(phases, { iterations: 1000 })).iterationsEndMs).toBe(
      300_000 + 10_000 + 62_500,
    );
    // Within the first phase: N(t) = t + t²/200 (t in s) reaches 150 at t = 100s.
    expect(planRun(load(phases, { iterations: 150 })).iterationsEndMs).toBeCloseTo(100_000, 6);
    // Not reached: more than the 87 150 planned arrivals, or no cap.
    expect(planRun(load(phases, { iterations: 100_000 })).iterationsEndMs).toBeUndefined();
    expect(planRun(load(phases)).iterationsEndMs).toBeUndefined();
  });

  it('cannot tell when the cap is reached after a closed-loop phase', () => {
    const phases = [
      { duration: '10s', concurrency: 2 },
      { duration: '1h', arrivalRate: 4 },
    ];
    expect(planRun(load(phases, { iterations: 10 })).iterationsEndMs).toBeUndefined();
    // Before one, it can.
    expect(planRun(load([...phases].reverse(), { iterations: 10 })).iterationsEndMs).toBe(2500);
  });

  it.each([
    { from: 2, to: 2, steps: [{ atMs: 0, workers: 2 }] },
    {
      from: 1,
      to: 5,
      steps: [
        { atMs: 0, workers: 1 },
        { atMs: 1250, workers: 2 },
        { atMs: 3750, workers: 3 },
        { atMs: 6250, workers: 4 },
        { atMs: 8750, workers: 5 },
      ],
    },
    {
      from: 4,
      to: 1,
      steps: [
        { atMs: 0, workers: 4 },
        { atMs: 1667, workers: 3 },
        { atMs: 5001, workers: 2 },
        { atMs: 8334, workers: 1 },
      ],
    },
  ])(
    'closed ramp $from → $to over 10 s changes workers at the half-way points',
    ({ from, to, steps }) => {
      const plan = planRun(
        load([{ duration: '10s', concurrency: from, ...(from === to ? {} : { rampTo: to }) }]),
      );
      const phase = plan.phases[0]!;
      expect(phase.kind === 'closed' && phase.workerSteps).toEqual(steps);
      for (const step of steps) expect(workersAt(closed(from, to), step.atMs)).toBe(step.workers);
    },
  );

  it('starts ramp-up workers when the wanted count reaches them, never the others', () => {
    const phase = closed(2, 4);
    expect([0, 1, 2, 3, 4].map((i) => workerStartMs(phase, i))).toEqual([
      0,
      0,
      2500,
      7500,
      undefined,
    ]);
    expect(workersAt(phase, 2499)).toBe(2);
    expect(workersAt(phase, 2500)).toBe(3);
    expect(workerStartMs(closed(4, 1), 3)).toBe(0);
    expect(workerStartMs(closed(4, 1), 4)).toBeUndefined();
  });
});
