/**
 * A report as one self-contained HTML page (render/html-page.ts): the operations table, each
 * node of a merged report side by side (html-nodes.ts), the latency percentile distribution of
 * every operation (HDR-style: log-scaled distance to 100%, recomputed from the encoded
 * histograms), latency over time per operation, throughput, errors and drops over time,
 * scheduler lag (open loop), the runtime daemon's resources when sampled, thresholds, errors
 * by code and the environment. Pure: report in, string out.
 */
import type { OpName } from '../../common/operations.js';
import { checkpointNotice, isCheckpoint } from '../checkpoint.js';
import { Distribution } from '../distribution.js';
import type { Report, ReportOperation } from '../schema.js';
import {
  formatDuration,
  formatMs,
  formatPercent,
  formatRate,
  formatThresholdActual,
  formatTime,
} from './format.js';
import { harnessBanner, harnessSection } from './html-harness.js';
import { nodesSection } from './html-nodes.js';
import { facts, htmlPage, section, table } from './html-page.js';
import { leakDetails, leakedTotal, leakLine, targetGrowthLine } from './leaks.js';
import {
  esc,
  lineChart,
  palette,
  percentileDecades,
  type ChartAxis,
  type ChartBand,
  type ChartEvent,
  type ChartSeries,
} from './svg-chart.js';

/**
 * Colours of p50, p90, p99 and max, the same in every chart that plots percentiles over time
 * (each operation's latency, scheduler lag, event-loop delay) and apart from one another for
 * colour-blind readers too (Okabe–Ito); max is also dashed. The operation is in the title.
 */
const percentileColors = {
  p50: '#0072b2',
  p90: '#009e73',
  p99: '#d55e00',
  max: '#6e6e6e',
} as const;

/** Renders `report` as a self-contained HTML page. */
export function renderReportHtml(report: Report): string {
  const { run, environment: env } = report;
  const ops = Object.entries(report.operations) as [OpName, ReportOperation][];
  const runtime = [env.runtime.name, env.runtime.version].filter(Boolean).join(' ') || 'unknown';
  const sections = [
    ...harnessBanner(report),
    summarySection(report, ops),
    ...nodesSection(report),
    section(
      'distribution',
      'Latency distribution',
      percentileChart(
        'percentiles',
        'Latency by percentile (all operations)',
        distributionsOf(report, ops),
      ),
    ),
    latencyOverTimeSection(report, ops),
    section('throughput', 'Throughput over time', throughputChart(report, ops)),
    section('errors', 'Errors and drops over time', errorsChart(report, ops)),
    ...(report.scheduling.lagMs !== null ? [lagSection(report)] : []),
    resourcesSection(report),
    ...harnessSection(report),
    thresholdsSection(report),
    ...leaksSection(report),
    environmentSection(report),
  ];
  return htmlPage(
    `churn report · ${run.scenario}`,
    `run ${run.id} · ${isCheckpoint(report) ? 'checkpoint' : run.exitReason}${run.partial ? ' (partial)' : ''} · ${formatTime(run.start)} · ${formatDuration(run.durationMs)} · ${runtime} · driver ${env.driver}`,
    sections,
  );
}

/** Decoded whole-run distributions, one per operation with successes. */
export function distributionsOf(
  report: Report,
  ops: readonly [OpName, ReportOperation][],
): [string, Distribution][] {
  return ops.flatMap(([op, o]) =>
    o.histogram === null
      ? []
      : [
          [op, Distribution.fromEncoded(o.histogram, `operations.${op}.histogram`)] as [
            string,
            Distribution,
          ],
        ],
  );
}

/** Points of a percentile plot: 0 %, then evenly on the log scale up to 1 − 1/count. */
export function percentilePoints(d: Distribution): [number, number][] {
  if (d.total === 0) return [];
  const maxT = Math.log10(Math.max(d.total, 10));
  const points: [number, number][] = [];
  for (let t = 0; t <= maxT + 1e-9; t += 0.05) {
    const p = 100 * (1 - 10 ** -t);
    points.push([p, d.valueAtPercentile(p) / 1000]);
  }
  return points;
}

/** An HDR-style percentile chart of `distributions` (name, distribution). */
export function percentileChart(
  id: string,
  title: string,
  distributions: readonly (readonly [string, Distribution])[],
  colors?: readonly string[],
  dashed?: readonly boolean[],
  width?: number,
): string {
  return lineChart({
    id,
    title,
    ...(width !== undefined ? { width, height: 240 } : {}),
    series: distributions.map(([name, d], i) => ({
      name,
      points: percentilePoints(d),
      ...(d.total > 0
        ? { max: { value: d.max / 1000, label: `max ${formatMs(d.max / 1000)}` } }
        : {}),
      ...(colors?.[i] !== undefined ? { color: colors[i] } : {}),
      ...(dashed?.[i] === true ? { dashed: true } : {}),
    })),
    x: { label: 'percentile', scale: 'percentile', format: percentileLabel },
    y: { label: 'latency', scale: 'log', format: formatMs },
  });
}

/** 0%, 90%, 99%, 99.9%; the end of a line between two decades to as many decimals: 99.83%. */
export function percentileLabel(p: number): string {
  if (p === 0) return '0%';
  const decimals = Math.max(0, Math.ceil(percentileDecades(p) - 1e-9) - 1);
  return `${Number(p.toFixed(decimals))}%`;
}

/**
 * The timeline's x axis: seconds from the first recorded phase, ending where the last interval
 * ends (not at the next round number).
 */
function timeAxis(report: Report, label = 'time (s)'): ChartAxis {
  const endMs = report.timeline.intervals.reduce(
    (e, i) => Math.max(e, i.startMs + i.durationMs),
    0,
  );
  return {
    label,
    scale: 'linear',
    format: seconds,
    ...(endMs > 0 ? { domain: [0, endMs / 1000] as const } : {}),
  };
}

/**
 * Where each phase starts on the timeline (seconds from the first recorded phase's start, the
 * timeline's origin), from the scenario's planned durations; phases before the origin (a
 * warm-up) are left out, and a `drain` marker follows the last phase. Planned, not measured:
 * a phase that ran late starts later than its marker.
 */
export function phaseMarkers(
  phases: readonly {
    readonly name: string;
    readonly durationMs: number;
    readonly record?: unknown;
  }[],
): ChartEvent[] {
  const firstRecorded = phases.findIndex((p) => p.record !== false);
  if (firstRecorded < 0) return [];
  let atMs = 0;
  const events: ChartEvent[] = [];
  for (const p of phases.slice(firstRecorded)) {
    events.push({ x: atMs / 1000, label: p.name });
    atMs += p.durationMs;
  }
  events.push({ x: atMs / 1000, label: 'drain' });
  // One phase alone needs no marker at 0: the chart's edge says as much.
  return events.length <= 2 ? events.slice(1) : events;
}

/**
 * The run's outages as shaded spans of the timeline (seconds from the first recorded phase's
 * start): an outage's times count from the run's start, so the planned length of the phases
 * before the first recorded one (a warm-up) is taken off, as for {@link phaseMarkers}. One
 * still open at the end runs to the timeline's end.
 */
export function outageBands(report: Report): ChartBand[] {
  const phases = report.scenario.load.phases;
  const firstRecorded = phases.findIndex((p) => !('record' in p) || p.record);
  const offsetMs = phases
    .slice(0, Math.max(0, firstRecorded))
    .reduce((sum, p) => sum + p.durationMs, 0);
  const endMs = report.timeline.intervals.reduce(
    (e, i) => Math.max(e, i.startMs + i.durationMs),
    0,
  );
  return report.outages.map((o) => {
    const to = o.endMs === null ? Math.max(endMs, o.startMs - offsetMs) : o.endMs - offsetMs;
    const lasted = o.endMs === null ? 'never came back' : formatDuration(o.endMs - o.startMs);
    return {
      from: (o.startMs - offsetMs) / 1000,
      to: to / 1000,
      label: `runtime unreachable: ${lasted}, ${o.failedCycles} cycles failed UNAVAILABLE`,
    };
  });
}

function seconds(value: number): string {
  return `${Number(value.toFixed(1))}s`;
}

/** Interval midpoints in seconds. */
function midSec(i: { readonly startMs: number; readonly durationMs: number }): number {
  return (i.startMs + i.durationMs / 2) / 1000;
}

function summarySection(report: Report, ops: readonly [OpName, ReportOperation][]): string {
  const { run } = report;
  const rows = ops.map(([op, o]) => ({
    className: op === 'cycle' ? 'cycle' : undefined,
    cells: [
      esc(op),
      String(o.count),
      o.errors > 0 ? `<span class="bad">${o.errors}</span>` : '0',
      formatRate(o.throughputPerSec),
      formatMs(o.latencyMs?.p50),
      formatMs(o.latencyMs?.p90),
      formatMs(o.latencyMs?.p99),
      formatMs(o.latencyMs?.p999),
      formatMs(o.latencyMs?.max),
      formatMs(o.latencyMs?.mean),
    ],
  }));
  const codes = ops.flatMap(([op, o]) =>
    op === 'cycle'
      ? []
      : Object.entries(o.errorsByCode).map(([code, n]) => ({
          cells: [esc(op), `<span class="bad">${esc(code)}</span>`, String(n)],
        })),
  );
  const state = isCheckpoint(report)
    ? `<span class="bad">${esc(checkpointNotice(report))}</span>`
    : run.partial
      ? `<span class="bad">${esc(run.exitReason)} (partial)</span>${run.error === null ? '' : ` — ${esc(run.error.code)}: ${esc(run.error.message)}`}${run.abortedBy === null ? '' : ` — aborted by ${esc(run.abortedBy)}`}`
      : '<span class="ok">completed</span>';
  const c = report.cycles;
  return section(
    'summary',
    'Operations',
    `<p>${state} · cycles ${c.succeeded} ok, ${c.failed} failed, ${c.cut} cut, ${c.dropped} dropped · recorded ${esc(formatDuration(run.recordedMs))}</p>` +
      (rows.length === 0
        ? '<p class="muted">No operation was recorded.</p>'
        : table(
            ['operation', 'count', 'errors', 'ops/s', 'p50', 'p90', 'p99', 'p99.9', 'max', 'mean'],
            rows,
          )) +
      (codes.length === 0
        ? ''
        : `<h3>Errors by code</h3>${table(['operation', 'code', 'count'], codes)}`) +
      report.warnings.map((w) => `<div class="warn">${esc(w)}</div>`).join(''),
  );
}

function latencyOverTimeSection(report: Report, ops: readonly [OpName, ReportOperation][]): string {
  const intervals = report.timeline.intervals;
  const charts = ops.map(([op, o]) => {
    if (o.count === 0) return noSuccessNote(`${op}: latency per interval`, o);
    const pick = (field: 'p50Ms' | 'p90Ms' | 'p99Ms' | 'maxMs'): [number, number][] =>
      intervals.flatMap((i) => {
        const v = i.ops[op]?.[field];
        return v === null || v === undefined ? [] : [[midSec(i), v] as [number, number]];
      });
    return lineChart({
      id: `latency-${op}`,
      title: `${op}: latency per interval`,
      width: 560,
      height: 220,
      series: [
        { name: 'p50', points: pick('p50Ms'), color: percentileColors.p50 },
        { name: 'p90', points: pick('p90Ms'), color: percentileColors.p90 },
        { name: 'p99', points: pick('p99Ms'), color: percentileColors.p99 },
        { name: 'max', points: pick('maxMs'), color: percentileColors.max, dashed: true },
      ],
      x: timeAxis(report, 'time (s after the first recorded phase)'),
      y: { label: 'latency', scale: 'log', format: formatMs },
      events: phaseMarkers(report.scenario.load.phases),
      bands: outageBands(report),
    });
  });
  const width = report.timeline.intervals.reduce((w, i) => Math.max(w, i.durationMs), 0);
  return section(
    'latency-over-time',
    'Latency over time',
    `<p class="muted">${intervals.length} intervals of ${esc(formatDuration(width))}.</p><div class="charts">${charts.join('')}</div>`,
  );
}

/**
 * In place of a latency chart of an operation that never succeeded (it would be empty): what
 * happened instead.
 */
export function noSuccessNote(
  title: string,
  o: Pick<ReportOperation, 'errors' | 'errorsByCode'>,
): string {
  const codes = Object.entries(o.errorsByCode)
    .map(([code, n]) => `${n} ${code}`)
    .join(', ');
  const why =
    o.errors === 0 ? 'none was recorded' : `${o.errors} failed${codes === '' ? '' : ` (${codes})`}`;
  return `<div class="no-successes" data-note="${esc(title)}"><h3>${esc(title)}</h3><p class="muted">No successful operations: ${esc(why)}.</p></div>`;
}

function throughputChart(report: Report, ops: readonly [OpName, ReportOperation][]): string {
  const widthMs = report.timeline.intervals.reduce((w, i) => Math.max(w, i.durationMs), 0);
  const series: ChartSeries[] = ops.map(([op]) => ({
    name: op,
    // A short last interval (the run's tail) would show a rate of a handful of operations.
    points: report.timeline.intervals
      .filter((i) => i.durationMs >= widthMs / 2)
      .map((i) => [midSec(i), (i.ops[op]?.count ?? 0) / (i.durationMs / 1000)] as [number, number]),
  }));
  return lineChart({
    id: 'throughput',
    title: 'Successful operations per second',
    series,
    x: timeAxis(report),
    y: { label: 'ops/s', scale: 'linear', format: (v) => formatRate(v) },
    events: phaseMarkers(report.scenario.load.phases),
    bands: outageBands(report),
  });
}

function errorsChart(report: Report, ops: readonly [OpName, ReportOperation][]): string {
  const intervals = report.timeline.intervals;
  const failing = ops.filter(([op, o]) => op !== 'cycle' && o.errors > 0).map(([op]) => op);
  const all: ChartSeries[] = [
    {
      name: 'errors (all operations)',
      color: '#d62728',
      points: intervals.map((i) => [
        midSec(i),
        Object.entries(i.ops).reduce((s, [op, v]) => s + (op === 'cycle' ? 0 : v.errors), 0),
      ]),
    },
    ...failing.map((op, k) => ({
      name: `errors: ${op}`,
      color: palette[(k + 3) % palette.length]!,
      dashed: true,
      points: intervals.map((i) => [midSec(i), i.ops[op]?.errors ?? 0] as [number, number]),
    })),
    {
      name: 'dropped arrivals',
      color: '#7f7f7f',
      points: intervals.map((i) => [midSec(i), i.dropped] as [number, number]),
    },
  ];
  // A line flat at zero says nothing a sentence cannot: leave it out and say it.
  const series = all.filter((s) => s.points.some(([, y]) => y !== 0));
  const none = all.filter((s) => !series.includes(s)).map((s) => s.name);
  const note =
    none.length === 0 ? '' : `<p class="muted">None in any interval: ${esc(none.join(', '))}.</p>`;
  if (series.length === 0) {
    return '<p class="muted" data-note="errors">No errors and no dropped arrivals in any interval.</p>';
  }
  return (
    note +
    lineChart({
      id: 'errors',
      title: 'Errors and dropped arrivals per interval',
      series,
      x: timeAxis(report),
      y: { label: 'count', scale: 'linear', format: (v) => String(v) },
      events: phaseMarkers(report.scenario.load.phases),
      bands: outageBands(report),
    })
  );
}

function lagSection(report: Report): string {
  const intervals = report.timeline.intervals;
  const pick = (field: 'p50Ms' | 'p99Ms' | 'maxMs'): [number, number][] =>
    intervals.flatMap((i) => {
      const v = i.lag?.[field];
      return v === null || v === undefined ? [] : [[midSec(i), v] as [number, number]];
    });
  const s = report.scheduling;
  const series = [pick('p50Ms'), pick('p99Ms'), pick('maxMs')];
  // On a log scale a lag of 0 cannot be drawn: a chart of nothing but zeros would be empty.
  const anyLag = series.some((points) => points.some(([, v]) => v > 0));
  return section(
    'scheduling',
    'Open-loop scheduling',
    `<p>dropped ${s.dropped} · lag p50 ${formatMs(s.lagMs?.p50)}, p99 ${formatMs(s.lagMs?.p99)}, max ${formatMs(s.lagMs?.max)} · service time p50 ${formatMs(s.serviceTimeMs?.p50)}, p99 ${formatMs(s.serviceTimeMs?.p99)}</p>` +
      (!anyLag
        ? '<p class="muted" data-note="lag">No scheduler lag in any interval: every arrival was released on time.</p>'
        : lineChart({
            id: 'lag',
            title: 'Scheduler lag (actual − intended start)',
            series: [
              { name: 'p50', points: series[0]!, color: percentileColors.p50 },
              { name: 'p99', points: series[1]!, color: percentileColors.p99 },
              { name: 'max', points: series[2]!, color: percentileColors.max, dashed: true },
            ],
            x: timeAxis(report),
            y: { label: 'lag', scale: 'log', format: formatMs },
            events: phaseMarkers(report.scenario.load.phases),
            bands: outageBands(report),
          })),
  );
}

function resourcesSection(report: Report): string {
  const r = report.resources;
  if (r === null || r === undefined || r.points.length === 0) {
    return section(
      'resources',
      'Runtime daemon resources',
      '<p class="muted">No resource samples in this report.</p>',
    );
  }
  const at = (p: { readonly atMs: number }): number => p.atMs / 1000;
  const series = (name: string, key: keyof (typeof r.points)[number], scale = 1): ChartSeries => ({
    name,
    points: r.points.flatMap((p) => {
      const v = p[key];
      return typeof v === 'number' ? [[at(p), v * scale] as [number, number]] : [];
    }),
  });
  const cpuPct = (key: 'targetCpuSeconds' | 'harnessCpuSeconds', name: string): ChartSeries => ({
    name,
    points: r.points.flatMap((p, i) => {
      const prev = r.points[i - 1];
      const now = p[key];
      const before = prev?.[key];
      if (
        prev === undefined ||
        now === null ||
        before === null ||
        before === undefined ||
        // CPU time moves in clock ticks: a span much shorter than the sampling period (the
        // first and the last point) gives a rate that is mostly rounding.
        p.spanMs < r.intervalMs / 2
      ) {
        return [];
      }
      return [[at(p), ((now - before) / (p.spanMs / 1000)) * 100] as [number, number]];
    }),
  });
  const x = { label: 'time (s after sampling started)', scale: 'linear' as const, format: seconds };
  const mib = 1 / (1024 * 1024);
  const target = r.target === null ? 'none' : `${r.target.name} (${r.target.source})`;
  const charts = [
    lineChart({
      id: 'resources-cpu',
      title: 'CPU',
      width: 560,
      height: 220,
      series: [
        cpuPct('targetCpuSeconds', 'target CPU %'),
        cpuPct('harnessCpuSeconds', 'churn CPU %'),
      ],
      x,
      y: { label: '% of one CPU', scale: 'linear', format: (v) => `${Number(v.toFixed(1))}%` },
    }),
    lineChart({
      id: 'resources-memory',
      title: 'Memory (RSS, peak per point)',
      width: 560,
      height: 220,
      series: [
        series('target RSS', 'targetRssBytes', mib),
        series('shims RSS', 'shimRssBytes', mib),
        series('churn RSS', 'harnessRssBytes', mib),
      ],
      x,
      y: { label: 'MiB', scale: 'linear', format: (v) => `${Number(v.toFixed(1))}` },
    }),
    lineChart({
      id: 'resources-counts',
      title: 'Open fds, threads, shims (peak per point)',
      width: 560,
      height: 220,
      series: [
        series('target fds', 'targetOpenFds'),
        series('target threads', 'targetThreads'),
        series('shims', 'shims'),
        series('churn fds', 'harnessOpenFds'),
      ],
      x,
      y: { label: 'count', scale: 'linear', format: (v) => String(v) },
    }),
    lineChart({
      id: 'resources-event-loop',
      title: "churn's event-loop delay (p99 over the last 60 s, max per sample)",
      width: 560,
      height: 220,
      series: [
        { ...series('p99', 'eventLoopLagP99Ms'), color: percentileColors.p99 },
        { ...series('max', 'eventLoopLagMaxMs'), color: percentileColors.max, dashed: true },
      ],
      x,
      y: { label: 'delay', scale: 'linear', format: formatMs },
    }),
  ];
  return section(
    'resources',
    'Runtime daemon resources',
    `<p>target: ${esc(target)} · ${r.points.length} points, sampled every ${esc(formatDuration(r.intervalMs))} from ${esc(formatTime(r.start))}</p><div class="charts">${charts.join('')}</div>`,
  );
}

function thresholdsSection(report: Report): string {
  if (report.thresholds.length === 0) {
    return section(
      'thresholds',
      'Thresholds',
      '<p class="muted">The scenario has no thresholds.</p>',
    );
  }
  return section(
    'thresholds',
    'Thresholds',
    table(
      ['', 'threshold', 'actual', 'abortOnFail'],
      report.thresholds.map((t) => ({
        cells: [
          t.ok ? '<span class="ok">✓ pass</span>' : '<span class="bad">✗ fail</span>',
          `<code>${esc(t.source)}</code>`,
          esc(formatThresholdActual(t)),
          t.abortOnFail ? 'yes' : 'no',
        ],
      })),
    ),
  );
}

/** What the leak audit found, and the checks during the run; none without an audit. */
function leaksSection(report: Report): string[] {
  const leaks = report.leaks;
  if (leaks === null) return [];
  const total = leakedTotal(leaks);
  const head = `<p class="${total === 0 ? 'ok' : 'bad'}">${esc(leakLine(leaks))}</p>`;
  const growth = targetGrowthLine(leaks);
  const details = leakDetails(leaks, 50);
  const checks =
    leaks.checks.length === 0
      ? ''
      : table(
          ['check at', 'run pods', 'run containers', 'runtime processes', 'runtime mounts'],
          leaks.checks.map((k) => ({
            cells: [
              esc(formatDuration(k.atMs)),
              ...[k.pods, k.containers, k.processes, k.mounts].map((n) =>
                n === null ? '-' : String(n),
              ),
            ],
          })),
        );
  return [
    section(
      'leaks',
      'Leaks',
      head +
        (growth === undefined ? '' : `<p>${esc(growth)}</p>`) +
        (details.length === 0
          ? ''
          : `<ul>${details.map((d) => `<li>${esc(d)}</li>`).join('')}</ul>`) +
        (leaks.roots.length === 0
          ? ''
          : `<p class="muted">mounts looked for under ${esc(leaks.roots.join(', '))}</p>`) +
        checks,
    ),
  ];
}

function environmentSection(report: Report): string {
  const { run, environment: env } = report;
  const cl = report.cleanup;
  const entries: [string, string][] = [
    ['run id', run.id],
    ['scenario', run.scenario],
    ['start', formatTime(run.start)],
    ['end', formatTime(run.end)],
    ['duration', `${formatDuration(run.durationMs)} (recorded ${formatDuration(run.recordedMs)})`],
    ['exit reason', `${run.exitReason}${run.endedBy === null ? '' : ` (${run.endedBy})`}`],
    ['seed', String(run.seed)],
    ['churn', `${env.churnVersion}${env.gitCommit === null ? '' : ` (${env.gitCommit})`}`],
    ['Node.js', env.node],
    ['OS / kernel', `${env.os} ${env.kernel} (${env.arch})`],
    ['CPU', `${env.cpuModel} × ${env.cpuCount}`],
    ['cgroup', env.cgroupVersion === null ? 'unknown' : `v${env.cgroupVersion}`],
    ['driver', env.driver],
    [
      'runtime',
      `${env.runtime.name ?? 'unknown'} ${env.runtime.version ?? ''} (API ${env.runtime.apiVersion ?? '?'}${env.runtime.handler ? `, handler ${env.runtime.handler}` : ''})`,
    ],
    [
      'labels',
      Object.entries(env.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') || '-',
    ],
    [
      'cleanup',
      `${cl.calls} calls, ${cl.failures} failed; swept ${cl.sweptPods} pods, ${cl.sweptContainers} containers; left ${cl.remainingPods} pods, ${cl.remainingContainers} containers`,
    ],
    ['error rate', errorRateText(report)],
  ];
  if (report.mergedFrom !== null) {
    entries.push([
      'merged from',
      report.mergedFrom.map((p) => `${p.id} (${formatTime(p.start)})`).join(', '),
    ]);
  }
  return section(
    'environment',
    'Run and environment',
    facts(entries) +
      `<details><summary>Resolved scenario</summary><pre>${esc(JSON.stringify(report.scenario, null, 2))}</pre></details>`,
  );
}

function errorRateText(report: Report): string {
  let errors = 0;
  let attempts = 0;
  for (const [op, o] of Object.entries(report.operations)) {
    if (op === 'cycle') continue;
    errors += o.errors;
    attempts += o.count + o.errors;
  }
  return attempts === 0 ? '-' : formatPercent(errors / attempts);
}
