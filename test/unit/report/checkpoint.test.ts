// Checkpoint reports (issue 12): how they are built, serialized, and what every reader says
// of them: report (terminal, Markdown, JUnit, HTML), history, compare, merge, --baseline latest.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { baselineSkipReason } from '../../../src/report/comparable.js';
import { compareReports } from '../../../src/report/compare/compare.js';
import { historyRow } from '../../../src/report/history.js';
import { mergeReports } from '../../../src/report/merge.js';
import { renderHistory } from '../../../src/report/render/history.js';
import { renderReportHtml } from '../../../src/report/render/html.js';
import { renderJunit } from '../../../src/report/render/junit.js';
import { renderReportMarkdown } from '../../../src/report/render/markdown.js';
import { renderTerminalSummary } from '../../../src/report/render/terminal.js';
import { scenarioHistories } from '../../../src/report/history.js';
import { reportSchema, type Report } from '../../../src/report/schema.js';
import { serializeReport, serializeReportSliced } from '../../../src/report/serialize.js';
import { defaultOps, syntheticReport } from '../../support/synthetic-report.js';

function checkpointReport(seed = 1, runId = 'cp0001'): Report {
  return syntheticReport({
    seed,
    runId,
    ops: defaultOps(),
    state: 'running',
    checkpoint: { index: 3, intervalMs: 300_000 },
  });
}

const notice =
  'checkpoint 3 at 2025-03-01 10:00:10Z, 10.2s into the run: the run had not finished when this was written (it is still running, or it was killed before its final report); the figures cover the run up to the checkpoint only';

describe('a checkpoint report', () => {
  it('is partial, running, and says which checkpoint it is and when; the schema takes it', () => {
    const report = checkpointReport();
    expect(report.run).toMatchObject({
      partial: true,
      exitReason: 'running',
      endedBy: null,
      checkpoint: { at: report.run.end, index: 3, intervalMs: 300_000 },
    });
    expect(reportSchema.safeParse(JSON.parse(serializeReport(report))).success).toBe(true);
    // A final report has none.
    expect(syntheticReport({ seed: 1, ops: defaultOps() }).run.checkpoint).toBeNull();
  });

  it('is rendered as a checkpoint by every renderer', () => {
    const report = checkpointReport();
    const terminal = renderTerminalSummary(report);
    expect(terminal.split('\n')[0]).toBe(
      'churn · synthetic · run cp0001 · checkpoint (partial) in 10.2s (recorded 10.0s)',
    );
    expect(terminal).toContain(`⚠ ${notice}\n`);
    expect(renderReportMarkdown(report)).toContain('· **checkpoint** (partial) ·');
    expect(renderReportMarkdown(report)).toContain('> ⚠ checkpoint 3 at 2025-03-01 10:00:10Z');
    const junit = renderJunit(report);
    expect(junit).toContain('<failure');
    expect(junit).toContain('the run had not finished when this was written');
    expect(renderReportHtml(report)).toContain('checkpoint 3 at 2025-03-01 10:00:10Z');
  });

  it('is listed checkpoint* by history, with a legend and its facts in the JSON rows', () => {
    const report = checkpointReport();
    const row = historyRow('reports/synthetic/x.json', report, []);
    expect(row.checkpoint).toEqual(report.run.checkpoint);
    const text = renderHistory(scenarioHistories([row]));
    expect(text).toMatch(/ checkpoint\* /);
    expect(text).toContain(
      'checkpoint: the last checkpoint of a run that had not finished when it was written (still running, or killed before its final report).',
    );
    const final = historyRow(
      'reports/synthetic/y.json',
      syntheticReport({ seed: 2, ops: defaultOps() }),
      [],
    );
    expect(renderHistory(scenarioHistories([final]))).not.toContain('checkpoint');
  });

  it('is never the baseline `latest` picks', () => {
    const report = checkpointReport();
    expect(baselineSkipReason(report, report.scenario)).toBe('checkpoint');
  });

  it('given explicitly to compare, is compared, with the warning first', () => {
    const base = { report: checkpointReport(1, 'cp0001'), source: 'base.json' };
    const candidate = {
      report: syntheticReport({ seed: 2, runId: 'fin002', ops: defaultOps() }),
      source: 'cand.json',
    };
    const comparison = compareReports([base], [candidate]);
    expect(comparison.warnings[0]).toBe(`base.json is a ${notice}`);
    expect(comparison.base[0]).toMatchObject({ checkpoint: true, partial: true });
    expect(comparison.candidate[0]).toMatchObject({ checkpoint: false, partial: false });
    expect(comparison.rows.length).toBeGreaterThan(0);
  });

  it('merged with a final report, makes the merged one a checkpoint, named in a warning', () => {
    const merged = mergeReports([
      { report: checkpointReport(1, 'cp0001'), source: 'node-a.json' },
      {
        report: syntheticReport({ seed: 2, runId: 'fin002', ops: defaultOps() }),
        source: 'node-b.json',
      },
    ]);
    expect(merged.run).toMatchObject({ exitReason: 'running', partial: true });
    expect(merged.run.checkpoint).toMatchObject({ index: 3 });
    expect(merged.warnings).toContain(`node-a.json: ${notice}`);
  });
});

describe('serializeReportSliced', () => {
  it('slices a report that joined is byte for byte what serializeReport writes, pausing between slices', async () => {
    const report = syntheticReport({
      seed: 3,
      ops: defaultOps(),
      durationMs: 120_000,
      intervalMs: 100,
    });
    let pauses = 0;
    const sliced = await serializeReportSliced(report, {
      pause: () => {
        pauses++;
        return Promise.resolve();
      },
      itemsPerSlice: 16,
    });
    expect(sliced.join('')).toBe(serializeReport(report));
    expect(sliced.length).toBe(pauses + 1);
    // Every top-level key, and every 16 of the timeline's hundreds of intervals.
    expect(pauses).toBeGreaterThan(
      Object.keys(report).length + report.timeline.intervals.length / 16 - 1,
    );
  });

  it('writes any JSON value as JSON.stringify(value, null, 2) does', async () => {
    const noPause = { pause: () => Promise.resolve(), itemsPerSlice: 2 };
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue(),
          // Values JSON has no form for: left out of objects, null in arrays.
          fc.dictionary(fc.string(), fc.oneof(fc.jsonValue(), fc.constant(undefined))),
          fc.array(fc.oneof(fc.jsonValue(), fc.constant(undefined))),
        ),
        async (value) => {
          expect((await serializeReportSliced(value, noPause)).join('')).toBe(
            serializeReport(value),
          );
        },
      ),
    );
  });
});
