/**
 * Writing a checkpoint: the report of the run so far, built like the final one and written
 * atomically (store.ts) to the path the final report will have, which then replaces it. A
 * reader (or a kill -9) meets the previous checkpoint or the new one, never half of one.
 *
 * What runs on churn's event loop is the report's build and its serialization (the runner's
 * snapshot comes before); the write, fsync and rename are the thread pool's. Both parts are
 * timed, so the bench (bench/checkpoint.bench.ts) can say what a checkpoint costs the run.
 */
import { buildReport, type BuildReportInput } from './build.js';
import { serializeReport, writeSerializedReport } from './store.js';

/** What one checkpoint took. */
export interface CheckpointWrite {
  /** Where it went (the final report's path). */
  readonly path: string;
  /** Size of the file, bytes. */
  readonly bytes: number;
  /** Building and serializing the report: time the event loop was held, ms. */
  readonly buildMs: number;
  /** Writing, fsync and rename, ms (the event loop free meanwhile). */
  readonly writeMs: number;
}

/**
 * Builds the checkpoint report of `input` (whose outcome is a checkpoint: state `running`,
 * `checkpoint` set) and writes it under `dir`. Throws IO when it cannot be written.
 */
export async function writeCheckpointReport(
  dir: string,
  input: BuildReportInput,
  now: () => number = () => performance.now(),
): Promise<CheckpointWrite> {
  const t0 = now();
  const report = buildReport(input);
  const text = serializeReport(report);
  const t1 = now();
  const path = await writeSerializedReport(dir, report, text);
  const t2 = now();
  return { path, bytes: Buffer.byteLength(text), buildMs: t1 - t0, writeMs: t2 - t1 };
}
