/**
 * Units in scenario files and flags: durations (`250ms`, `1.5s`, `2m`, `1h`, `500us`) and
 * ratios (`0.1%` or a bare fraction). Parsers return undefined on bad input; callers turn that
 * into an error that names where the value came from.
 */

const durationUnitsMs: Readonly<Record<string, number>> = {
  us: 0.001,
  µs: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * The longest duration churn accepts, 576h (24 days). Every duration is waited on with one
 * timer somewhere (a phase, a drain, a stop timeout in the runtime), and Node's timers fire at
 * once, with only a warning, beyond 2^31 − 1 ms (about 24.8 days); a longer run is several
 * phases.
 */
export const maxDurationMs = 24 * 24 * 3_600_000;
/** {@link maxDurationMs} as messages say it: `576h (24 days)`. */
export const maxDurationText = `${maxDurationMs / 3_600_000}h (${maxDurationMs / 86_400_000} days)`;

/** What a duration looks like: a non-negative number and a unit (us, µs, ms, s, m, h). */
export const durationPattern = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(us|µs|ms|s|m|h)\s*$/;

/** What a ratio written as a string looks like: `0.1%`, `10 %` or a bare `0.001`. */
export const ratioPattern = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*%?\s*$/;

/** Spellings of units people write by habit, and the unit churn wants instead. */
const unitAliases: Readonly<Record<string, string>> = {
  sec: 's',
  secs: 's',
  second: 's',
  seconds: 's',
  min: 'm',
  mins: 'm',
  minute: 'm',
  minutes: 'm',
  hr: 'h',
  hrs: 'h',
  hour: 'h',
  hours: 'h',
  msec: 'ms',
  msecs: 'ms',
  millis: 'ms',
  millisecond: 'ms',
  milliseconds: 'ms',
  usec: 'us',
  usecs: 'us',
  microseconds: 'us',
};

/** Parses a duration such as `250ms`, `1.5s`, `2m`, `1h` into milliseconds; undefined if bad. */
export function parseDurationMs(text: string): number | undefined {
  const match = durationPattern.exec(text);
  if (match === null) return undefined;
  const [, amount, unit] = match;
  return Number(amount) * durationUnitsMs[unit!]!;
}

/**
 * Says what is wrong with a string that is not a duration, with a corrected spelling when one
 * is obvious (`30sec` → `30s`, `-5s` → negative, `30` → no unit).
 */
export function explainBadDuration(text: string): string {
  const trimmed = text.trim();
  if (/^-/.test(trimmed)) return `"${text}" is negative: a duration must be 0 or more`;
  if (/^(\d+(?:\.\d+)?|\.\d+)$/.test(trimmed)) {
    return `"${text}" has no unit: write e.g. ${trimmed}s or ${trimmed}ms`;
  }
  const withUnit = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Zµ]+)$/.exec(trimmed);
  if (withUnit !== null) {
    const [, amount, unit] = withUnit as unknown as [string, string, string];
    const lower = unit.toLowerCase();
    if (['d', 'day', 'days'].includes(lower)) {
      return `"${text}": days are not a unit; write ${Number(amount) * 24}h`;
    }
    const hint = unitAliases[lower] ?? (durationUnitsMs[lower] !== undefined ? lower : undefined);
    const suggestion = hint === undefined ? '' : ` (did you mean "${amount}${hint}"?)`;
    return `"${text}" has an unknown unit "${unit}": use us, ms, s, m or h${suggestion}`;
  }
  return `"${text}" is not a duration: use a number and a unit, ms, s, m or h (e.g. 250ms, 30s)`;
}

/** Says that `text`, a duration, is longer than {@link maxDurationMs}. */
export function explainLongDuration(text: string): string {
  return `"${text.trim()}" is too long: a duration is at most ${maxDurationText}`;
}

/** Formats milliseconds as the shortest exact duration string churn accepts (`1500ms`, `2m`). */
export function formatDurationMs(ms: number): string {
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  if (Number.isInteger(ms)) return `${ms}ms`;
  return `${Math.round(ms * 1000)}us`;
}

/**
 * Formats milliseconds for people, in hours, minutes and seconds to the millisecond:
 * `6m34.521s`, `1h30m`, `1h0m5s`; under a second as {@link formatDurationMs} does (`250ms`).
 */
export function formatDurationHuman(ms: number): string {
  if (ms < 1000) return formatDurationMs(ms);
  const wholeMs = Math.round(ms);
  const h = Math.floor(wholeMs / 3_600_000);
  const m = Math.floor((wholeMs % 3_600_000) / 60_000);
  const sMs = wholeMs % 60_000;
  let out = h > 0 ? `${h}h` : '';
  if (m > 0 || (h > 0 && sMs > 0)) out += `${m}m`;
  if (sMs > 0) out += `${sMs / 1000}s`;
  return out;
}

/** Parses `0.1%` (→ 0.001) or a bare fraction `0.001`; undefined if bad or negative. */
export function parseRatio(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text : undefined;
  const match = ratioPattern.exec(text);
  if (match === null) return undefined;
  const value = Number(match[1]);
  return text.includes('%') ? value / 100 : value;
}
