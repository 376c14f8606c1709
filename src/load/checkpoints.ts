/**
 * The checkpoint schedule of a run: every `intervalMs` it asks for one checkpoint (the runner
 * snapshots the run so far and hands it to the caller, which writes the report), one at a time,
 * until told to stop.
 *
 * A checkpoint never breaks the run: one that fails is counted and its first error kept, for a
 * warning in the final report. Checkpoints keep to the grid (start + k·interval); one that
 * overruns its interval is not followed by a burst of late ones: the next is due one interval
 * after it ended. Stopping does not cut a
 * checkpoint in flight off: the loop's promise settles after it, so a caller that awaits it
 * before writing the final report knows no checkpoint can land on top of it.
 */
import type { Clock } from '../common/clock.js';
import { toChurnError } from '../common/errors.js';
import { sleepUntil } from './wait.js';

/** Options of {@link runCheckpoints}. */
export interface CheckpointLoopOptions {
  readonly clock: Clock;
  /** Period, ms (> 0); the first checkpoint is due one period after the loop starts. */
  readonly intervalMs: number;
  /** Aborts to stop: no checkpoint starts after it. */
  readonly done: AbortSignal;
  /** Takes checkpoint `index` (1, 2, …); a rejection counts as a failed checkpoint. */
  readonly take: (index: number) => Promise<void>;
}

/** What the checkpoints of a run came to. */
export interface CheckpointTally {
  /** Checkpoints begun (written or failed). */
  readonly taken: number;
  readonly failed: number;
  /** The first failure's message. */
  readonly firstError: string | undefined;
}

/** Runs the schedule until `done` aborts; see the module comment. Never rejects. */
export async function runCheckpoints(options: CheckpointLoopOptions): Promise<CheckpointTally> {
  const { clock, intervalMs, done, take } = options;
  let taken = 0;
  let failed = 0;
  let firstError: string | undefined;
  let dueMs = clock.now() + intervalMs;
  while (await sleepUntil(clock, dueMs, done)) {
    taken++;
    try {
      await take(taken);
    } catch (err) {
      failed++;
      firstError ??= toChurnError(err).message;
    }
    dueMs += intervalMs;
    const nowMs = clock.now();
    if (dueMs <= nowMs) dueMs = nowMs + intervalMs;
  }
  return { taken, failed, firstError };
}

/** The report warning for failed checkpoints; undefined when none failed. */
export function checkpointWarning(tally: CheckpointTally): string | undefined {
  if (tally.failed === 0) return undefined;
  return `${tally.failed} of ${tally.taken} checkpoints could not be written (a kill would have lost more of the run than its checkpoint interval); the first: ${tally.firstError ?? 'unknown error'}`;
}
