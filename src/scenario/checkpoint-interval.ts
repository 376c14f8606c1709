/**
 * `report.checkpointInterval` (and `churn run --checkpoint-interval`): how often a long run
 * writes its report so far, marked as a checkpoint, where its final report will go. Pure.
 *
 * Written as `auto` (the default), `off` or `0` (never), or a duration of at least
 * {@link minCheckpointIntervalMs}. `auto` checkpoints every {@link autoCheckpointIntervalMs}
 * a run whose phases are planned to last longer than that, and leaves shorter runs alone:
 * a run that ends before its first checkpoint would be due gains nothing from one.
 */
import {
  explainBadDuration,
  explainLongDuration,
  formatDurationMs,
  maxDurationMs,
  parseDurationMs,
} from './units.js';

/** What `auto` checkpoints at, and how long a planned run must be for it to checkpoint: 5 min. */
export const autoCheckpointIntervalMs = 300_000;
/** The shortest interval churn takes: 1 s (a checkpoint costs a snapshot and a file write). */
export const minCheckpointIntervalMs = 1000;

/** A checkpoint interval as written, checked: `auto`, or ms (0: off). */
export type CheckpointSetting = 'auto' | number;

/** The outcome of {@link parseCheckpointInterval}: the setting, or what is wrong with it. */
export type ParsedCheckpointInterval =
  | { readonly ok: true; readonly setting: CheckpointSetting }
  | { readonly ok: false; readonly problem: string };

const usage = `write a duration of at least ${formatDurationMs(minCheckpointIntervalMs)} (e.g. 5m), auto, or off (0)`;

/**
 * `auto` → auto; `off`, `0` (text or number) or any zero duration → 0; a duration of at
 * least {@link minCheckpointIntervalMs} → its ms. Anything else is a problem, said in words.
 */
export function parseCheckpointInterval(value: string | number): ParsedCheckpointInterval {
  if (typeof value === 'number') {
    if (value === 0) return { ok: true, setting: 0 };
    return {
      ok: false,
      problem: `${value} has no unit: write e.g. ${value}s or ${value}m (or 0 for off)`,
    };
  }
  const text = value.trim().toLowerCase();
  if (text === 'auto') return { ok: true, setting: 'auto' };
  if (text === 'off' || text === '0') return { ok: true, setting: 0 };
  const ms = parseDurationMs(text);
  if (ms === undefined) {
    const bad = explainBadDuration(value);
    return { ok: false, problem: /^\s*-?\d/.test(value) ? bad : `"${value}": ${usage}` };
  }
  if (ms > maxDurationMs) return { ok: false, problem: explainLongDuration(value) };
  if (ms === 0) return { ok: true, setting: 0 };
  if (ms < minCheckpointIntervalMs) {
    return { ok: false, problem: `"${value}" is too short: ${usage}` };
  }
  return { ok: true, setting: ms };
}

/**
 * The interval a run checkpoints at, ms (0: it does not): `auto` is
 * {@link autoCheckpointIntervalMs} when the phases are planned longer than it (`plannedMs`),
 * else 0; an explicit interval is kept whatever the plan.
 */
export function resolveCheckpointIntervalMs(setting: CheckpointSetting, plannedMs: number): number {
  if (setting !== 'auto') return setting;
  return plannedMs > autoCheckpointIntervalMs ? autoCheckpointIntervalMs : 0;
}
