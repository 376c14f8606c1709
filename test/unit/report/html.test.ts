// The HTML report is one self-contained page whose every chart has data; the compare page
// overlays both distributions per operation.
import { describe, expect, it } from 'vitest';
import { compareReports } from '../../../src/report/compare/compare.js';
import { mergeReports } from '../../../src/report/merge.js';
import { renderCompareHtml } from '../../../src/report/render/compare-html.js';
import {
  outageBands,
  percentileLabel,
  phaseMarkers,
  renderReportHtml,
} from '../../../src/report/render/html.js';
import {
  lineChart,
  linearBounds,
  percentileBounds,
  percentileDecades,
} from '../../../src/report/render/svg-chart.js';
import { formatMs } from '../../../src/report/render/format.js';
import { renderReportMarkdown } from '../../../src/report/render/markdown.js';
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

/** `r` as run on node `node` (the label a cluster run gives its nodes' runs). */
function onNode(r: Report, node: string): Report {
  return { ...r, environment: { ...r.environment, labels: { ...r.environment.labels, node } } };
}

describe('the nodes of a merged report', () => {
  /** A node's report whose phases began `phasesMs` after 10:00:00 (null: not recorded). */
  const nodeReport = (
    seed: number,
    runId: string,
    phasesMs: number | null,
    start: object = {},
  ): Report => {
    const r = syntheticReport({ seed, runId, ops: defaultOps({ start }), durationMs: 4000 });
    const phasesStart =
      phasesMs === null ? null : new Date(Date.UTC(2025, 2, 1, 10) + phasesMs).toISOString();
    return { ...r, run: { ...r.run, phasesStart } };
  };
  const a = onNode(nodeReport(11, 'cl-0', 100), 'node-a');
  // Four times slower starts, 5% of which fail: p99 and errors stand out.
  const b = onNode(nodeReport(12, 'cl-1', 350, { scale: 4, errorRate: 0.05 }), 'node-b');
  const broken = onNode(nodeReport(13, 'cl-2', null), 'node-<c>');
  const c: Report = { ...broken, run: { ...broken.run, exitReason: 'aborted', partial: true } };
  const merged = mergeReports([
    { report: a, source: 'a.json' },
    { report: b, source: 'b.json' },
    { report: c, source: 'c.json' },
  ]);
  const page = renderReportHtml(merged);
  const nodes = /<section id="nodes">[\s\S]*?<\/section>/.exec(page)?.[0] ?? '';
  // The rows of the first table (the nodes; the second is their errors by code).
  const rows = [
    ...(/<table>[\s\S]*?<\/table>/.exec(nodes)?.[0] ?? '').matchAll(
      /<tr( class="([^"]+)")?><td>([^<]*)<\/td>([\s\S]*?)<\/tr>/g,
    ),
  ];

  it('has no nodes section for a single run', () => {
    expect(renderReportHtml(a)).not.toContain('<section id="nodes">');
  });

  it('shows every node side by side, after the operations and before the charts', () => {
    expect(page.indexOf('<section id="summary">')).toBeLessThan(
      page.indexOf('<section id="nodes">'),
    );
    expect(page.indexOf('<section id="nodes">')).toBeLessThan(
      page.indexOf('<section id="distribution">'),
    );
    expect(rows.map((r) => r[3])).toEqual(['node-a', 'node-b', 'node-&lt;c&gt;']);
    // Each node's own figures: its cycles and p99(cycle).
    for (const [row, report, began] of [
      [rows[0]!, a, '+0 ms'],
      [rows[1]!, b, '+250 ms'],
      [rows[2]!, c, '-'],
    ] as const) {
      const cells = [...row[4]!.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((m) => m[1]!);
      expect(cells[0]).toContain(report.run.exitReason);
      expect(cells[1]).toBe(String(report.cycles.succeeded));
      expect(cells[8]).toContain(formatMs(report.operations.cycle!.latencyMs!.p99));
      expect(cells[10]).toBe(began);
    }
  });

  it('marks the node that failed and the one that stands out, and the figures that do', () => {
    expect(nodes).toContain(
      '3 nodes · <span class="bad">1 failed</span> · <span class="bad">1 stands out</span>',
    );
    expect(rows.map((r) => r[2])).toEqual([undefined, 'node-outlier', 'node-failed']);
    expect(rows[0]![4]).toContain('<span class="ok">✓</span>');
    // The figures that stand out, in red in their cells; why, in the list under the table.
    expect([...rows[1]![4]!.matchAll(/data-mark="(\w+)"/g)].map((m) => m[1])).toEqual([
      'errors',
      'p99',
    ]);
    expect(rows[1]![4]).toContain('<span class="bad">⚠ stands out</span>');
    expect(rows[2]![4]).toContain('<span class="bad" data-mark="run">aborted</span>');
    expect(rows[2]![4]).toContain('<span class="bad">✗ failed</span>');
    const why = [...nodes.matchAll(/<li><b>([^<]*)<\/b>: ([^<]*)<\/li>/g)].map((m) => [m[1], m[2]]);
    expect(why.map(([name]) => name)).toEqual(['node-b', 'node-&lt;c&gt;']);
    expect(why[0]![1]).toMatch(
      /^⚠ stands out: p99\(cycle\) [\d.]+× the other nodes' median; ⚠ stands out: error ratio [\d.]+% vs 0% on the other nodes$/,
    );
    expect(why[1]![1]).toBe('✗ failed: run aborted');
    expect(nodes).toContain('<h3>Errors by node and code</h3>');
    expect(nodes).toMatch(
      new RegExp(
        `<td>node-b</td><td><span class="bad">UNAVAILABLE</span></td><td>${b.operations.start!.errors}</td>`,
      ),
    );
  });

  it('lists the nodes with their marks in the Markdown report too', () => {
    const md = renderReportMarkdown(merged);
    const lines = md.split('\n').filter((l) => l.startsWith('- `cl-'));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain(`node node-a · `);
    expect(lines[0]).toContain(`cycles ${a.cycles.succeeded} ok`);
    expect(lines[0]).not.toContain('**');
    expect(lines[1]).toMatch(
      /\*\*⚠ stands out: p99\(cycle\) [\d.]+× the other nodes' median; ⚠ stands out: error ratio/,
    );
    expect(lines[2]).toContain('node node-\\<c\\> · ');
    expect(lines[2]).toContain('**✗ failed: run aborted**');
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

describe('chart axes', () => {
  // [values, nice, lo, hi, ticks]
  const linear: [number[], boolean, number, number, number[]][] = [
    // A timeline of 10.3 s ends at 10.3 s, not 12 or 15; its ticks stay round.
    [[0.125, 10.3], false, 0, 10.3, [0, 5, 10]],
    [[0.5, 4.25], false, 0, 4.25, [0, 1, 2, 3, 4]],
    [[3], false, 0, 3, [0, 1, 2, 3]],
    // y rounds up to the next step, from 0.
    [[12, 57], true, 0, 60, [0, 20, 40, 60]],
    [[], true, 0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1]],
    [[-2, 3], false, -2, 3, [-2, -1, 0, 1, 2, 3]],
  ];
  it.each(linear)('linear %j (nice %s) → [%d, %d]', (values, nice, lo, hi, ticks) => {
    const b = linearBounds(values, nice);
    expect([b.lo, b.hi]).toEqual([lo, hi]);
    expect(b.ticks).toEqual(ticks);
  });

  // [highest percentile drawn, decades at the axis end, tick labels]
  const percentile: [number, number, string[]][] = [
    [99.9, 3, ['0%', '90%', '99%', '99.9%']],
    // 600 values: the line ends at 1 − 1/600, and so does the axis, labelled.
    [100 - 100 / 600, Math.log10(600), ['0%', '90%', '99%', '99.83%']],
    // 125 values: 99.2% is too close to 99% for a label of its own.
    [100 - 100 / 125, Math.log10(125), ['0%', '90%', '99%']],
    [90, 1, ['0%', '90%']],
    [100 - 100 / 20_000, Math.log10(20_000), ['0%', '90%', '99%', '99.9%', '99.99%', '99.995%']],
  ];
  it.each(percentile)('percentile up to %f', (top, decades, labels) => {
    const b = percentileBounds([0, 50, top]);
    expect(b.hi).toBeCloseTo(decades, 9);
    expect(b.ticks.map(percentileLabel)).toEqual(labels);
  });

  it('maps the last percentile drawn to the right edge of the plot', () => {
    const svg = lineChart({
      id: 'p',
      title: 'p',
      series: [
        {
          name: 'a',
          points: [
            [0, 1],
            [90, 2],
            [99.5, 3],
          ],
        },
      ],
      x: { label: 'percentile', scale: 'percentile', format: percentileLabel },
      y: { label: 'ms', scale: 'linear', format: String },
    });
    const d = /data-series="a"[^>]* d="([^"]+)"/.exec(svg)![1]!;
    const lastX = Number(/L([\d.]+),[\d.]+$/.exec(d)![1]);
    // 720 wide, margins 64 and 30: the plot is 626 wide.
    expect(lastX).toBe(626);
    expect(percentileDecades(99.5)).toBeCloseTo(2.301, 3);
  });
});

describe('phase markers', () => {
  const rows: [
    string,
    { name: string; durationMs: number; record?: boolean }[],
    [number, string][],
  ][] = [
    ['one phase: only where it ends', [{ name: 'p', durationMs: 10_000 }], [[10, 'drain']]],
    [
      'a warm-up is before the origin',
      [
        { name: 'warm', durationMs: 5_000, record: false },
        { name: 'steady', durationMs: 20_000 },
        { name: 'burst', durationMs: 10_000 },
      ],
      [
        [0, 'steady'],
        [20, 'burst'],
        [30, 'drain'],
      ],
    ],
    ['nothing recorded', [{ name: 'warm', durationMs: 5_000, record: false }], []],
  ];
  it.each(rows)('%s', (_name, phases, expected) => {
    expect(phaseMarkers(phases).map((e) => [e.x, e.label])).toEqual(expected);
  });

  it('marks the phases on every timeline and the max of every percentile line', () => {
    const phased = syntheticReport({
      seed: 3,
      ops: defaultOps(),
      durationMs: 6000,
      lag: true,
      scenario: {
        load: {
          phases: [
            { name: 'steady', duration: '3s', concurrency: 2 },
            { name: 'burst', duration: '3s', arrivalRate: 50 },
          ],
        },
      },
    });
    const page = renderReportHtml(phased);
    for (const svg of page.split('<svg class="chart" ').slice(1)) {
      const id = /^data-chart="([^"]+)"/.exec(svg)![1]!;
      const body = svg.slice(0, svg.indexOf('</svg>'));
      if (id.startsWith('latency-') || id === 'throughput' || id === 'lag') {
        expect(body, id).toContain('data-event="burst"');
        expect(body, id).toContain('data-event="steady"');
      }
      if (id === 'percentiles') {
        const markers = body.match(/class="max-marker"/g) ?? [];
        expect(markers).toHaveLength(Object.keys(phased.operations).length);
        expect(body).toMatch(/<title>start: max [\d.]+(µs|ms|s)<\/title>/);
      }
    }
  });
});

describe('outages on the timeline', () => {
  it('shades each outage on every timeline chart, after a warm-up too, with what it cost', () => {
    const warmed = syntheticReport({
      seed: 3,
      ops: defaultOps(),
      durationMs: 6000,
      lag: true,
      scenario: {
        load: {
          phases: [
            { name: 'warm', duration: '2s', concurrency: 1, record: false },
            { name: 'steady', duration: '6s', concurrency: 2 },
          ],
        },
      },
    });
    const withOutages: Report = {
      ...warmed,
      outages: [
        { startMs: 3000, endMs: 4500, failedCycles: 7 },
        { startMs: 6500, endMs: null, failedCycles: 3 },
      ],
    };
    const bands = outageBands(withOutages);
    expect(bands.map((b) => [b.from, b.to])).toEqual([
      [1, 2.5],
      [4.5, 6],
    ]);
    expect(bands[0]!.label).toBe('runtime unreachable: 1.5s, 7 cycles failed UNAVAILABLE');
    expect(bands[1]!.label).toContain('never came back');
    const page = renderReportHtml(withOutages);
    for (const svg of page.split('<svg class="chart" ').slice(1)) {
      const id = /^data-chart="([^"]+)"/.exec(svg)![1]!;
      const body = svg.slice(0, svg.indexOf('</svg>'));
      if (id.startsWith('latency-') || id === 'throughput' || id === 'lag') {
        expect(body.match(/class="band"/g), id).toHaveLength(2);
      }
    }
    // No outage, no band.
    expect(renderReportHtml(warmed)).not.toContain('class="band"');
  });
});

describe('no empty flat charts', () => {
  it('says there were no errors and drops instead of a line flat at zero', () => {
    const clean = syntheticReport({ seed: 9, ops: defaultOps(), durationMs: 3000 });
    const page = renderReportHtml(clean);
    expect(page).not.toContain('data-chart="errors"');
    expect(page).toContain('No errors and no dropped arrivals in any interval.');
  });

  it('leaves out the flat series of a chart that has others', () => {
    const someErrors = syntheticReport({
      seed: 9,
      ops: defaultOps({ start: { errorRate: 0.05 } }),
      durationMs: 3000,
    });
    const page = renderReportHtml(someErrors);
    const errors = /data-chart="errors"[\s\S]*?<\/svg>/.exec(page)![0];
    expect(errors).toContain('data-series="errors: start"');
    expect(errors).not.toContain('data-series="dropped arrivals"');
    expect(page).toContain('None in any interval: dropped arrivals.');
  });
});
