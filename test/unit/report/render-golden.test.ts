// Rendered output against golden files (test/fixtures/golden/; UPDATE_GOLDEN=1 rewrites them):
// a report as Markdown and JUnit, a comparison as the terminal table and Markdown, the history.
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { compareReports } from '../../../src/report/compare/compare.js';
import { historyRow, scenarioHistories } from '../../../src/report/history.js';
import { renderCompareMarkdown } from '../../../src/report/render/compare-markdown.js';
import { renderCompareTerminal } from '../../../src/report/render/compare-terminal.js';
import { renderHistory } from '../../../src/report/render/history.js';
import { renderReportHtml } from '../../../src/report/render/html.js';
import { renderCompareJson } from '../../../src/report/render/json.js';
import { renderJunit } from '../../../src/report/render/junit.js';
import { renderReportMarkdown } from '../../../src/report/render/markdown.js';
import type { Report } from '../../../src/report/schema.js';
import { expectGolden } from '../../support/golden.js';
import { defaultOps, syntheticReport, withRunHealth } from '../../support/synthetic-report.js';

/** A leak audit that found one container and a shim left, with a daemon that grew. */
const leaks: NonNullable<Report['leaks']> = {
  pods: 0,
  containers: 1,
  podIds: [],
  containerIds: ['c0ffee01'],
  processes: 1,
  mounts: 0,
  processList: [{ pid: 4242, comm: 'containerd-shim', kind: 'shim', owner: 'abad1dea' }],
  mountList: [],
  preexisting: { processes: 2, mounts: 0 },
  roots: ['/var/lib/containerd', '/run/containerd'],
  target: {
    name: 'containerd',
    pid: 100,
    fromMs: 2000,
    toMs: 62_000,
    points: 61,
    rssBytes: {
      baseline: 52_428_800,
      last: 53_477_376,
      slopePerHour: 62_914_560,
      slopePctPerHour: 120,
    },
    openFds: { baseline: 48, last: 48, slopePerHour: 0, slopePctPerHour: 0 },
    threads: null,
  },
  checks: [{ atMs: 30_000, pods: 4, containers: 4, processes: 0, mounts: 0 }],
  notes: [],
};

const report = syntheticReport({
  seed: 5,
  runId: 'a1b2c3',
  ops: defaultOps({ start: { errorRate: 0.01 } }),
  durationMs: 5000,
  ratePerSec: 200,
  dropped: 4,
  lag: true,
  scenario: { report: { labels: { release: '1.7.0' } } },
  thresholds: [
    {
      source: 'p99(start) < 50ms',
      metric: 'p99',
      op: 'start',
      comparator: '<',
      value: 50,
      actual: 63.2,
      ok: false,
      abortOnFail: false,
    },
    {
      source: 'error_rate < 1%',
      metric: 'error_rate',
      op: undefined,
      comparator: '<',
      value: 0.01,
      actual: 0.0014,
      ok: true,
      abortOnFail: false,
    },
    {
      source: 'dropped == 0',
      metric: 'dropped',
      op: undefined,
      comparator: '==',
      value: 0,
      actual: 4,
      ok: false,
      abortOnFail: true,
    },
  ],
});

const base = syntheticReport({ seed: 11, runId: 'base01', ops: defaultOps(), ratePerSec: 500 });
const candidate = syntheticReport({
  seed: 12,
  runId: 'cand01',
  ops: defaultOps({ start: { scale: 1.3 } }),
  ratePerSec: 500,
  startWallMs: Date.UTC(2025, 2, 2, 10, 0, 0),
  host: { kernel: '6.1.0-20-amd64' },
});
const comparison = compareReports(
  [{ report: base, source: 'reports/synthetic/20250301T100000Z_base01.json' }],
  [{ report: candidate, source: 'reports/synthetic/20250302T100000Z_cand01.json' }],
);

describe('golden output', () => {
  it('renders a report as Markdown', () => {
    expectGolden('report.md.golden', renderReportMarkdown({ ...report, leaks }));
  });

  it('renders a report as HTML: axes end at the data, phase markers, max markers', () => {
    const phased = syntheticReport({
      seed: 5,
      runId: 'a1b2c3',
      ops: defaultOps({ start: { errorRate: 0.01 } }),
      durationMs: 5000,
      ratePerSec: 200,
      lag: true,
      scenario: {
        load: {
          phases: [
            { name: 'warm', duration: '2s', concurrency: 1, record: false },
            { name: 'steady', duration: '3s', concurrency: 2 },
            { name: 'burst', duration: '2s', arrivalRate: 100 },
          ],
        },
      },
    });
    expectGolden('report.html.golden', renderReportHtml({ ...phased, leaks }));
  });

  it('renders a report as JUnit XML, thresholds as test cases', () => {
    const xml = renderJunit(report);
    expectGolden('report.junit.xml', xml);
    expect(xml.match(/<testcase /g)).toHaveLength(4);
    expect(xml.match(/<failure /g)).toHaveLength(2);
  });

  it('renders a comparison as the terminal table, colour only on request', () => {
    const plain = renderCompareTerminal(comparison);
    expectGolden('compare.txt', plain);
    expect(plain).not.toContain('\u001b[');
    const colored = renderCompareTerminal(comparison, { color: true });
    expect(colored).toContain('\u001b[31m');
    expect(stripVTControlCharacters(colored)).toBe(plain);
  });

  it('renders a comparison as Markdown and JSON', () => {
    expectGolden('compare.md.golden', renderCompareMarkdown(comparison));
    const json = JSON.parse(renderCompareJson(comparison)) as {
      rows: { op: string; statistic: string; verdict: string; deltaPct: number; p: number }[];
      warnings: string[];
    };
    expect(json.rows).toHaveLength(56);
    expect(json.rows.find((r) => r.op === 'start' && r.statistic === 'p50')).toMatchObject({
      verdict: 'regression',
    });
    expect(Object.keys(json.rows[0]!)).toEqual([
      'op',
      'statistic',
      'unit',
      'base',
      'candidate',
      'deltaPct',
      'ciLowPct',
      'ciHighPct',
      'p',
      'pRaw',
      'test',
      'n',
      'verdict',
      'note',
    ]);
    expect(json.warnings[0]).toMatch(/kernel/);
  });

  it('renders the history with trends, marks and busy hosts', () => {
    const quiet = { load1Mean: 0.4, stealPct: 0, otherCpuPct: 2 };
    const health: Parameters<typeof withRunHealth>[1][] = [
      { contention: quiet },
      {},
      { contention: { load1Mean: 2.6, stealPct: 0, otherCpuPct: 61 } },
      { marks: ['harness-bound'], contention: quiet },
    ];
    const runs = [1, 2, 3, 4].map((i) =>
      withRunHealth(
        syntheticReport({
          seed: 20 + i,
          runId: `run0${i}`,
          ops: defaultOps({ start: { scale: 1 + (i === 4 ? 0.5 : 0) } }),
          durationMs: 3000,
          startWallMs: Date.UTC(2025, 2, i, 2, 0, 0),
          ratePerSec: 100 - i * 5,
        }),
        health[i - 1]!,
      ),
    );
    const rows = runs.map((r, i) =>
      historyRow(`reports/synthetic/run0${i + 1}.json`, r, i === 0 ? ['release-1.7'] : []),
    );
    expectGolden('history.txt', renderHistory(scenarioHistories(rows)));
  });
});
