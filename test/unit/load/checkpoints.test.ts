// Checkpoints of a run: the schedule (checkpoints.ts) on a virtual clock, and what the runner
// hands to `write` at each one.
import { afterEach, describe, expect, it } from 'vitest';
import { checkpointWarning, runCheckpoints } from '../../../src/load/checkpoints.js';
import {
  runScenario,
  type RunCheckpoint,
  type RunOptions,
  type RunResult,
} from '../../../src/load/runner.js';
import { Recorder } from '../../../src/metrics/recorder.js';
import { scenarioSchema } from '../../../src/scenario/schema.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FakeDriver } from '../../support/fake-driver.js';

describe('runCheckpoints', () => {
  it('takes one checkpoint per interval on the grid, numbered from 1, until stopped', async () => {
    const clock = new FakeClock({ startMs: 0 });
    const done = new AbortController();
    const at: [number, number][] = [];
    const loop = runCheckpoints({
      clock,
      intervalMs: 1000,
      done: done.signal,
      take: async (index) => {
        at.push([index, clock.now()]);
        await clock.sleep(100); // a write takes 100 ms: the grid does not drift
      },
    });
    await clock.sleep(3500);
    done.abort();
    expect(await loop).toEqual({ taken: 3, failed: 0, firstError: undefined });
    expect(at).toEqual([
      [1, 1000],
      [2, 2000],
      [3, 3000],
    ]);
  });

  it('after a checkpoint that overran its interval, the next is due one interval after it ended', async () => {
    const clock = new FakeClock({ startMs: 0 });
    const done = new AbortController();
    const starts: number[] = [];
    const loop = runCheckpoints({
      clock,
      intervalMs: 1000,
      done: done.signal,
      take: async () => {
        starts.push(clock.now());
        if (starts.length === 1) await clock.sleep(2500);
      },
    });
    await clock.sleep(6000);
    done.abort();
    await loop;
    // Ends at 3500: no burst for the missed 2000 and 3000.
    expect(starts).toEqual([1000, 4500, 5500]);
  });

  it('counts failures and keeps the first error; the loop goes on', async () => {
    const clock = new FakeClock({ startMs: 0 });
    const done = new AbortController();
    const loop = runCheckpoints({
      clock,
      intervalMs: 1000,
      done: done.signal,
      take: (index) =>
        index % 2 === 1
          ? Promise.reject(new Error(`ENOSPC: no space left on device (#${index})`))
          : Promise.resolve(),
    });
    await clock.sleep(4500);
    done.abort();
    const tally = await loop;
    expect(tally).toEqual({
      taken: 4,
      failed: 2,
      firstError: 'ENOSPC: no space left on device (#1)',
    });
    expect(checkpointWarning(tally)).toBe(
      '2 of 4 checkpoints could not be written (a kill would have lost more of the run than its checkpoint interval); the first: ENOSPC: no space left on device (#1)',
    );
    expect(checkpointWarning({ taken: 4, failed: 0, firstError: undefined })).toBeUndefined();
  });

  it('settles only after the checkpoint in flight when stopped', async () => {
    const clock = new FakeClock({ startMs: 0 });
    const done = new AbortController();
    let finished = false;
    const loop = runCheckpoints({
      clock,
      intervalMs: 1000,
      done: done.signal,
      take: async () => {
        await clock.sleep(700);
        finished = true;
      },
    });
    await clock.sleep(1200);
    done.abort();
    expect(finished).toBe(false);
    expect(await loop).toMatchObject({ taken: 1, failed: 0 });
    expect(finished).toBe(true);
    expect(clock.now()).toBe(1700);
  });
});

const recorders: Recorder[] = [];
afterEach(() => {
  for (const r of recorders.splice(0)) r.release();
});

/**
 * Runs one closed phase of `duration` (2 workers, 20 ms cycles) on a virtual clock, with the
 * checkpoints `checkpoint` makes for that clock.
 */
async function runWith(
  duration: string,
  checkpoint: (clock: FakeClock) => NonNullable<RunOptions['checkpoint']>,
  extra: Record<string, unknown> = {},
): Promise<RunResult> {
  const scenario = scenarioSchema.parse({
    name: 'cp',
    seed: 1,
    load: { phases: [{ duration, concurrency: 2 }] },
    ...extra,
  });
  const clock = new FakeClock({ startMs: 0 });
  const recorder = new Recorder({ clock, intervalMs: scenario.report.intervalMs });
  recorders.push(recorder);
  return runScenario({
    scenario,
    driver: new FakeDriver({ clock, latencyMs: { start: 10, stop: 10 } }),
    recorder,
    clock,
    runId: 'r1',
    checkpoint: checkpoint(clock),
  });
}

describe('runner: checkpoints', () => {
  it('hands the run so far to write every interval, and returns only after the last write', async () => {
    const taken: RunCheckpoint[] = [];
    let writing = 0;
    const result = await runWith(
      '5s',
      (clock) => ({
        intervalMs: 1200,
        write: async (progress) => {
          writing++;
          taken.push(progress);
          await clock.sleep(300);
          writing--;
        },
      }),
      { thresholds: ['error_rate < 1%'] },
    );
    expect(writing).toBe(0);
    expect(result.state).toBe('completed');
    expect(taken.map((c) => [c.checkpoint.index, c.durationMs])).toEqual([
      [1, 1200],
      [2, 2400],
      [3, 3600],
      [4, 4800],
    ]);
    for (const c of taken) {
      expect(c.state).toBe('running');
      expect(c.checkpoint.intervalMs).toBe(1200);
      expect(c.startWallMs).toBe(result.startWallMs);
      expect(c.endWallMs).toBe(c.startWallMs + c.durationMs);
      // Every histogram is there, so the checkpoint is a whole report.
      expect(c.snapshot.overall.cycle?.histogram).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(c.snapshot.overall.cycle?.count).toBe(c.cycles.succeeded);
      expect(c.thresholds.map((t) => t.source)).toEqual(['error_rate < 1%']);
    }
    // Counts grow checkpoint by checkpoint and end at the final figures.
    const started = taken.map((c) => c.cycles.started);
    expect(started).toEqual([...started].sort((a, b) => a - b));
    expect(started[0]).toBeGreaterThan(0);
    expect(started.at(-1)).toBeLessThan(result.cycles.started);
    expect(result.warnings).toEqual([]);
  });

  it('a write that fails is a warning of the run, not a failure', async () => {
    const result = await runWith('2500ms', () => ({
      intervalMs: 1000,
      write: () => Promise.reject(new Error('cannot write r.json: ENOSPC')),
    }));
    expect(result.state).toBe('completed');
    expect(result.warnings).toEqual([
      '2 of 2 checkpoints could not be written (a kill would have lost more of the run than its checkpoint interval); the first: cannot write r.json: ENOSPC',
    ]);
  });

  it('takes none with an interval of 0', async () => {
    let writes = 0;
    const result = await runWith('3s', () => ({
      intervalMs: 0,
      write: () => {
        writes++;
        return Promise.resolve();
      },
    }));
    expect(result.state).toBe('completed');
    expect(writes).toBe(0);
  });
});
