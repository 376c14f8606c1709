// The HTML report is one self-contained page whose every chart has data; the compare page
// overlays both distributions per operation.
import { describe, expect, it } from 'vitest';
import { compareReports } from '../../../src/report/compare/compare.js';
import { renderCompareHtml } from '../../../src/report/render/compare-html.js';
import { renderReportHtml } from '../../../src/report/render/html.js';
import type { Report } from '../../../src/report/schema.js';
import { defaultOps, syntheticReport } from '../../support/synthetic-report.js';

const report = syntheticReport({
  seed: 3,
  ops: defaultOps({ start: { errorRate: 0.02 } }),
  durationMs: 6000,
  dropped: 5,
  lag: true,
});

/** A resource series as the sampler writes it, 6 points a second apart. */
function withResources(r: Report): Report {
  return {
    ...r,
    resources: {
      start: r.run.start,
      intervalMs: 1000,
      target: { name: 'churn-core', source: 'self' },
      points: Array.from({ length: 6 }, (_, i) => ({
        atMs: i * 1000,
        spanMs: i === 0 ? 0 : 1000,
        targetUp: true,
        targetPid: 42,
        targetCpuSeconds: 1 + i * 0.4,
        targetRssBytes: 50e6 + i * 1e6,
        targetOpenFds: 30 + i,
        targetThreads: 11,
        shims: null,
        shimRssBytes: null,
        harnessCpuSeconds: 0.5 + i * 0.2,
        harnessRssBytes: 80e6,
        harnessHeapUsedBytes: 20e6,
        harnessOpenFds: 25,
        eventLoopLagP99Ms: 1.5,
        eventLoopLagMaxMs: 4 + i,
        eventLoopLagSpanP99Ms: 4 + i,
        eventLoopUtilization: 0.1,
        load1: 0.5,
        stealPct: 0,
        otherCpuPct: 3,
      })),
    },
  };
}

/** data-chart id → number of points of each series. */
function charts(html: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const svg of html.split('<svg class="chart" ').slice(1)) {
    const id = /^data-chart="([^"]+)"/.exec(svg)![1]!;
    const body = svg.slice(0, svg.indexOf('</svg>'));
    out.set(
      id,
      [...body.matchAll(/class="series" data-series="[^"]*" data-points="(\d+)"/g)].map((m) =>
        Number(m[1]),
      ),
    );
  }
  return out;
}

/** data-chart id → series name → stroke colour, of its lines and of its legend entries. */
function seriesColors(html: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const svg of html.split('<svg class="chart" ').slice(1)) {
    const id = /^data-chart="([^"]+)"/.exec(svg)![1]!;
    const body = svg.slice(0, svg.indexOf('</svg>'));
    const colors = new Map<string, string>();
    for (const m of body.matchAll(/class="series" data-series="([^"]*)"[^>]* stroke="([^"]+)"/g)) {
      colors.set(m[1]!, m[2]!);
    }
    out.set(id, colors);
  }
  return out;
}

describe('renderReportHtml', () => {
  const html = renderReportHtml(withResources(report));

  it('draws every chart with data', () => {
    const drawn = charts(html);
    const ops = Object.keys(report.operations);
    expect([...drawn.keys()]).toEqual([
      'percentiles',
      ...ops.map((op) => `latency-${op}`),
      'throughput',
      'errors',
      'lag',
      'resources-cpu',
      'resources-memory',
      'resources-counts',
      'resources-event-loop',
    ]);
    expect(drawn.get('percentiles')).toHaveLength(ops.length);
    for (const [id, series] of drawn) {
      expect(series.length, id).toBeGreaterThan(0);
      expect(Math.max(...series), id).toBeGreaterThan(1);
    }
    // HDR-style: the percentile plot reaches past 99.9% for 600 values.
    expect(drawn.get('percentiles')![0]).toBeGreaterThan(50);
    expect(html).toContain('errors: start');
  });

  it('gives p50, p90, p99 and max one colour each, the same in every chart, all distinct', () => {
    const colors = seriesColors(html);
    const ops = Object.keys(report.operations);
    expect(ops.length).toBeGreaterThan(4); // enough operations to go round the palette's start
    const first = colors.get(`latency-${ops[0]!}`)!;
    expect([...first.keys()]).toEqual(['p50', 'p90', 'p99', 'max']);
    expect(new Set(first.values()).size).toBe(4);
    for (const op of ops) expect(colors.get(`latency-${op}`), op).toEqual(first);
    // Other charts of percentiles over time use the same colours for the same names.
    for (const id of ['lag', 'resources-event-loop']) {
      const chart = colors.get(id)!;
      expect(chart.size, id).toBeGreaterThan(1);
      for (const [name, color] of chart) expect(color, `${id} ${name}`).toBe(first.get(name));
    }
    // Each legend entry is drawn in its line's colour.
    const legend = /data-chart="latency-start"[\s\S]*?<\/svg>/.exec(html)![0];
    for (const color of first.values()) {
      expect(legend.match(new RegExp(`stroke="${color}"`, 'g'))!.length).toBeGreaterThanOrEqual(2);
    }
  });

  it('is self-contained: no script, nothing loaded, a policy that forbids loading', () => {
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|\bhref=|@import|url\(/i);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(/https?:/);
    expect(html).toContain(
      `content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`,
    );
  });

  it('shows thresholds and the environment, and says when resources are missing', () => {
    expect(html).toContain('Synthetic CPU @ 2.00GHz × 2');
    expect(html).toContain('The scenario has no thresholds.');
    expect(renderReportHtml(report)).toContain('No resource samples in this report.');
  });

  it('says so instead of drawing an empty chart for an operation that never succeeded', () => {
    // Every stop fails, so no cycle succeeds and nothing after stop runs.
    const failing = syntheticReport({
      seed: 5,
      ops: defaultOps({ stop: { errorRate: 1 } }),
      durationMs: 3000,
    });
    const page = renderReportHtml(failing);
    const drawn = charts(page);
    expect(drawn.has('latency-stop')).toBe(false);
    expect(drawn.has('latency-cycle')).toBe(false);
    expect(drawn.has('latency-start')).toBe(true);
    for (const [id, series] of drawn) expect(Math.max(0, ...series), id).toBeGreaterThan(1);
    expect(page).toMatch(
      /<h3>stop: latency per interval<\/h3><p class="muted">No successful operations: 300 failed \(300 UNAVAILABLE\)\.<\/p>/,
    );
  });

  it('escapes what it shows', () => {
    const nasty = { ...report, warnings: ['<b>bold</b> & "quoted"'] };
    expect(renderReportHtml(nasty)).toContain('&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;');
  });
});

describe('renderCompareHtml', () => {
  it('overlays the two distributions of every operation', () => {
    const base = [{ report, source: 'a.json' }];
    const candidate = [
      {
        report: syntheticReport({
          seed: 4,
          ops: defaultOps({ start: { scale: 1.3 } }),
          durationMs: 6000,
        }),
        source: 'b.json',
      },
    ];
    const html = renderCompareHtml(compareReports(base, candidate), base, candidate);
    const drawn = charts(html);
    expect([...drawn.keys()]).toEqual(Object.keys(report.operations).map((op) => `compare-${op}`));
    for (const series of drawn.values()) expect(series).toHaveLength(2);
    expect(html).toContain('data-series="base"');
    expect(html).toContain('data-series="candidate"');
    expect(html).toMatch(/start — p50 regression/);
    expect(html).not.toMatch(/<script/);
  });
});
