/**
 * Reads what a churn pod wrote: its live status lines (`--progress-json`, on stderr) and its
 * report (`--json`, on stdout). A pod's log interleaves both streams; the report is the block
 * from a line `{` to the next line `}` (churn prints it indented, so only its own braces start
 * a line), the status lines are single lines `{"churnProgress":…}`.
 */

/** The fields of churn's live status `churn cluster run` shows. */
export interface NodeProgress {
  readonly elapsedMs: number;
  readonly totalMs: number;
  readonly cyclesPerSec: number;
  readonly cycles: {
    readonly started: number;
    readonly succeeded: number;
    readonly failed: number;
  };
  readonly errors: number;
  readonly stage: string;
}

/** The last status line of `log`, or undefined. */
export function lastProgress(log: string): NodeProgress | undefined {
  const lines = log.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!line.startsWith('{"churnProgress":')) continue;
    try {
      const parsed = JSON.parse(line) as { churnProgress?: NodeProgress };
      if (parsed.churnProgress !== undefined) return parsed.churnProgress;
    } catch {
      // A line cut by the tail: look further up.
    }
  }
  return undefined;
}

/** The report's JSON text in `log`, or undefined when it holds none. */
export function reportText(log: string): string | undefined {
  const lines = log.split('\n');
  const start = lines.indexOf('{');
  if (start < 0) return undefined;
  const end = lines.indexOf('}', start + 1);
  if (end < 0) return undefined;
  return lines.slice(start, end + 1).join('\n');
}

/** The lines of `log` that are neither report nor status: churn's messages. */
export function messageLines(log: string): string[] {
  const lines = log.split('\n');
  const start = lines.indexOf('{');
  const end = start < 0 ? -1 : lines.indexOf('}', start + 1);
  return lines.filter(
    (line, i) =>
      line.trim() !== '' &&
      !line.startsWith('{"churnProgress":') &&
      !(start >= 0 && end >= 0 && i >= start && i <= end),
  );
}
