import { describe, expect, it } from 'vitest';
import { Heartbeat, heartbeatOf } from '../../../src/common/heartbeat.js';
import { FakeClock } from '../../support/fake-clock.js';

describe('Heartbeat', () => {
  it('wakes every waiter of a beat with one timer', async () => {
    const clock = new FakeClock({ auto: false, startMs: 1000 });
    const heartbeat = new Heartbeat(clock, 1000);
    await clock.advance(250);
    const woken: string[] = [];
    const a = heartbeat.next().then((beat) => woken.push(`a@${beat.dueMs}`));
    const b = heartbeat.next().then((beat) => woken.push(`b@${beat.dueMs}`));
    expect(clock.pending).toBe(1);
    expect(heartbeat.nextDueMs()).toBe(2000);
    await clock.advance(750);
    await Promise.all([a, b]);
    expect(woken).toEqual(['a@2000', 'b@2000']);
    expect(clock.pending).toBe(0);
  });

  it('keeps to its grid: a waiter after a late beat waits for the next grid point', async () => {
    const clock = new FakeClock({ auto: false, startMs: 0 });
    const heartbeat = new Heartbeat(clock, 1000);
    const first = heartbeat.next();
    // The loop is held: the beat due at 1000 runs at 1300.
    clock.jump(1300);
    await clock.advance(0);
    expect(await first).toEqual({ dueMs: 1000, atMs: 1300 });
    const second = heartbeat.next();
    expect(heartbeat.nextDueMs()).toBe(2000);
    await clock.advance(700);
    expect(await second).toEqual({ dueMs: 2000, atMs: 2000 });
  });

  it('rejects an aborted waiter and disarms when nobody waits', async () => {
    const clock = new FakeClock({ auto: false });
    const heartbeat = new Heartbeat(clock, 1000);
    const stop = new AbortController();
    const kept = new AbortController();
    const aborted = heartbeat.next(stop.signal);
    const other = heartbeat.next(kept.signal);
    stop.abort();
    await expect(aborted).rejects.toThrow(/aborted/);
    expect(clock.pending).toBe(1);
    kept.abort();
    await expect(other).rejects.toThrow(/aborted/);
    expect(clock.pending).toBe(0);
    await expect(heartbeat.next(stop.signal)).rejects.toThrow(/aborted/);
  });

  it('gives sub-beats on the same grid: a sub-beat on a beat shares its timer', async () => {
    const clock = new FakeClock({ auto: false, startMs: 0 });
    const heartbeat = new Heartbeat(clock, 1000);
    await clock.advance(800);
    const beat = heartbeat.next();
    const quarter = heartbeat.next(undefined, 4);
    expect(heartbeat.nextDueMs(4)).toBe(1000);
    expect(clock.pending).toBe(1);
    await clock.advance(200);
    expect(await beat).toEqual({ dueMs: 1000, atMs: 1000 });
    expect(await quarter).toEqual({ dueMs: 1000, atMs: 1000 });
    const next = heartbeat.next(undefined, 4);
    const later = heartbeat.next();
    await clock.advance(250);
    expect(await next).toEqual({ dueMs: 1250, atMs: 1250 });
    expect(clock.pending).toBe(1);
    await clock.advance(750);
    expect(await later).toEqual({ dueMs: 2000, atMs: 2000 });
  });

  it('is shared per clock and period', () => {
    const clock = new FakeClock();
    expect(heartbeatOf(clock)).toBe(heartbeatOf(clock, 1000));
    expect(heartbeatOf(clock, 500)).not.toBe(heartbeatOf(clock));
    expect(heartbeatOf(new FakeClock())).not.toBe(heartbeatOf(clock));
  });
});
