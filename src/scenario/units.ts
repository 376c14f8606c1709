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

const durationPattern = /^(\d+(?:\.\d+)?|\.\d+)\s*(us|µs|ms|s|m|h)$/;

/** Parses a duration such as `250ms`, `1.5s`, `2m`, `1h` into milliseconds; undefined if bad. */
export function parseDurationMs(text: string): number | undefined {
  const match = durationPattern.exec(text.trim());
  if (match === null) return undefined;
  const [, amount, unit] = match;
  return Number(amount) * durationUnitsMs[unit!]!;
}

/** Formats milliseconds as the shortest exact duration string churn accepts (`1500ms`, `2m`). */
export function formatDurationMs(ms: number): string {
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  if (Number.isInteger(ms)) return `${ms}ms`;
  return `${Math.round(ms * 1000)}us`;
}

/** Parses `0.1%` (→ 0.001) or a bare fraction `0.001`; undefined if bad or negative. */
export function parseRatio(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text : undefined;
  const trimmed = text.trim();
  const percent = /^(\d+(?:\.\d+)?|\.\d+)\s*%$/.exec(trimmed);
  if (percent !== null) return Number(percent[1]) / 100;
  if (/^(\d+(?:\.\d+)?|\.\d+)$/.test(trimmed)) return Number(trimmed);
  return undefined;
}
