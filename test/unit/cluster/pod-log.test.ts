import { describe, expect, it } from 'vitest';
import { lastProgress, messageLines, reportText } from '../../../src/cluster/pod-log.js';

const progress = (succeeded: number): string =>
  JSON.stringify({
    churnProgress: {
      elapsedMs: succeeded * 100,
      totalMs: 10_000,
      cyclesPerSec: 1,
      cycles: { started: succeeded, succeeded, failed: 0 },
      errors: 0,
      stage: 'running',
    },
  });

// A pod log: stderr (status lines, messages) and stdout (the indented report) interleaved.
const log = [
  progress(1),
  progress(5),
  '{',
  '  "schemaVersion": 1,',
  '  "run": {',
  '    "id": "r-0"',
  '  }',
  '}',
  'churn: 1 threshold(s) failed: p99(cycle) < 1ms',
  '',
].join('\n');

describe('pod log', () => {
  it('finds the last status line, skipping a line cut by the tail', () => {
    expect(lastProgress(`${log}\n{"churnProgress":{"elapsed`)?.cycles.succeeded).toBe(5);
    expect(lastProgress('churn: metrics at …\n')).toBeUndefined();
  });

  it('takes the report from its own braces only', () => {
    expect(JSON.parse(reportText(log)!)).toEqual({ schemaVersion: 1, run: { id: 'r-0' } });
    expect(reportText(`${progress(1)}\n{\n  "cut": 1,\n`)).toBeUndefined();
    expect(reportText('churn: the run broke\n')).toBeUndefined();
  });

  it("keeps churn's messages, not the report or the status lines", () => {
    expect(messageLines(log)).toEqual(['churn: 1 threshold(s) failed: p99(cycle) < 1ms']);
  });
});
