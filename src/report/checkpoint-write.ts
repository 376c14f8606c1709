/**
 * Writing a checkpoint: the report of the run so far, built like the final one and written
 * atomically (store.ts) to the path the final report will have, which then replaces it. A
 * reader (or a kill -9) meets the previous checkpoint or the new one, never half of one.
 *
 * Off the hot path: the event loop is given back before the build (so the runner's snapshot
 * and the build are separate turns of the loop), and the serialization goes in slices
 * (serialize.ts) that are written one after the other, never joined; the write, fsync and
 * rename are the thread pool's. The longest turn the
 * checkpoint held the loop is measured, for the bench (bench/checkpoint.bench.ts).
 */
import { buildReport, type BuildReportInput } from './build.js';
import { serializeReportSliced } from './serialize.js';
import { writeSerializedReport } from './store.js';

/** What one checkpoint took. */
export interface CheckpointWrite {
  /** Where it went (the final report's path). */
  readonly path: string;
  /** Size of the file, bytes. */
  readonly bytes: number;
  /** Building the report, ms: one turn of the event loop. */
  readonly buildMs: number;
  /** The longest turn of the loop the checkpoint took (the build, or a slice of JSON), ms. */
  readonly longestTurnMs: number;
  /** From the build's start to the text being ready, ms, the loop given back between slices. */
  readonly serializeMs: number;
  /** Writing, fsync and rename, ms (the event loop free meanwhile). */
  readonly writeMs: number;
}

/** Options of {@link writeCheckpointReport}. */
export interface CheckpointWriteOptions {
  /** Clock of the timings, ms. Default `performance.now`. */
  readonly now?: () => number;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Builds the checkpoint report of `input` (whose outcome is a checkpoint: state `running`,
 * `checkpoint` set) and writes it under `dir`. Throws IO when it cannot be written.
 */
export async function writeCheckpointReport(
  dir: string,
  input: BuildReportInput,
  options: CheckpointWriteOptions = {},
): Promise<CheckpointWrite> {
  const now = options.now ?? (() => performance.now());
  await nextTurn();
  const t0 = now();
  const report = buildReport(input);
  const buildMs = now() - t0;
  let longestTurnMs = buildMs;
  let turnStart = now();
  const slices = await serializeReportSliced(report, {
    pause: async () => {
      longestTurnMs = Math.max(longestTurnMs, now() - turnStart);
      await nextTurn();
      turnStart = now();
    },
  });
  const t1 = now();
  longestTurnMs = Math.max(longestTurnMs, t1 - turnStart);
  const path = await writeSerializedReport(dir, report, slices);
  return {
    path,
    bytes: slices.reduce((sum, slice) => sum + Buffer.byteLength(slice), 0),
    buildMs,
    longestTurnMs,
    serializeMs: t1 - t0,
    writeMs: now() - t1,
  };
}
