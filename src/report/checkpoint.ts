/**
 * Checkpoints as readers see them: a report written while its run went on (`run.checkpoint`,
 * exitReason `running`, partial), which the run's final report replaces at the same path. A
 * checkpoint that is still on disk belongs to a run that is still running, or that was killed
 * (kill -9, a lost node, a full disk) before it could write its final report: nothing in the
 * file can tell which, so every reader says both.
 */
import { formatDuration, formatTime } from './render/format.js';
import type { Report } from './schema.js';

/** True when `report` is a checkpoint, not a run's final report. */
export function isCheckpoint(report: Pick<Report, 'run'>): boolean {
  return report.run.checkpoint !== null || report.run.exitReason === 'running';
}

/**
 * `checkpoint 3 at 2025-03-01 10:15:00Z, 15m 00s into the run`: which checkpoint, when, and
 * how far into its run; `checkpoint` alone for a merged report that lost the facts.
 */
export function checkpointLabel(report: Pick<Report, 'run'>): string {
  const c = report.run.checkpoint;
  if (c === null) return 'checkpoint';
  return `checkpoint ${c.index} at ${formatTime(c.at)}, ${formatDuration(report.run.durationMs)} into the run`;
}

/**
 * The sentence every reader prints for a checkpoint: what it is, and that the figures cover
 * only the run up to it.
 */
export function checkpointNotice(report: Pick<Report, 'run'>): string {
  return `${checkpointLabel(report)}: the run had not finished when this was written (it is still running, or it was killed before its final report); the figures cover the run up to the checkpoint only`;
}
