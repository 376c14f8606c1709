/**
 * The HTML report's section on churn's own health: the run's marks (harness-bound,
 * overloaded) and stalls said loudly, churn's event loop and CPU and the host's contention
 * over the run, event-loop lag and host contention per timeline interval, and the intervals
 * that stalled. Pure: report in, HTML out.
 */
import type { Report } from '../schema.js';
import { harnessWarnings, markMessages } from '../verdicts.js';
import { formatDuration, formatMs, formatPercent } from './format.js';
import { facts, section, table } from './html-page.js';
import { esc, lineChart, type ChartSeries } from './svg-chart.js';

function bannerText(report: Report): string {
  const marks = markMessages(report).map(
    ({ text }) => `<p class="warn"><span class="bad">⚠ ${esc(text)}</span></p>`,
  );
  const warnings = harnessWarnings(report).map((text) => `<p class="warn">⚠ ${esc(text)}</p>`);
  return [...marks, ...warnings].join('');
}

/**
 * The verdict banner for the top of the page: the run's marks and stalls; no section when the
 * run is fair and healthy.
 */
export function harnessBanner(report: Report): string[] {
  const text = bannerText(report);
  return text === '' ? [] : [section('verdicts', 'Not a fair measurement', text)];
}

/** The "Harness health" section; none when the report has no harness figures. */
export function harnessSection(report: Report): string[] {
  const h = report.harness;
  if (h === null) return [];
  const pct = (v: number | null): string => (v === null ? '-' : formatPercent(v / 100));
  const summary = facts([
    ['event-loop lag p99', `${formatMs(h.lagP99Ms)} (bound ${formatMs(h.lagBoundMs)})`],
    ['event-loop lag max', formatMs(h.lagMaxMs)],
    ['event loop busy', h.utilization === null ? '-' : formatPercent(h.utilization)],
    ['churn’s thread waiting for a CPU', pct(h.cpuWaitPct)],
    ["churn's CPU", `${h.cpuSeconds.toFixed(1)} s`],
    [
      'host load (1 min, mean)',
      h.contention.load1Mean === null ? '-' : h.contention.load1Mean.toFixed(2),
    ],
    ['CPU steal (mean)', pct(h.contention.stealPct)],
    ['other processes’ CPU (mean)', pct(h.contention.otherCpuPct)],
  ]);
  const intervals = report.timeline.intervals;
  const at = (startMs: number, durationMs: number): number => (startMs + durationMs) / 1000;
  const pointsOf = (
    pick: (harness: NonNullable<(typeof intervals)[number]['harness']>) => number | null,
  ): [number, number][] =>
    intervals.flatMap((i) => {
      const v = i.harness === null ? null : pick(i.harness);
      return v === null ? [] : [[at(i.startMs, i.durationMs), v] as [number, number]];
    });
  const x = {
    label: 'time (s after the first recorded phase began)',
    scale: 'linear' as const,
    format: (v: number) => `${Number(v.toFixed(1))}`,
  };
  const lagSeries: ChartSeries[] = [
    { name: 'p99', points: pointsOf((s) => s.loopLagP99Ms), color: '#d55e00' },
    { name: 'max', points: pointsOf((s) => s.loopLagMaxMs), color: '#6e6e6e', dashed: true },
    {
      name: 'bound',
      points: intervals.map((i) => [at(i.startMs, i.durationMs), h.lagBoundMs]),
      color: '#cf222e',
      dashed: true,
    },
  ];
  const hostSeries: ChartSeries[] = [
    { name: 'other processes CPU %', points: pointsOf((s) => s.otherCpuPct), color: '#0072b2' },
    { name: 'steal %', points: pointsOf((s) => s.stealPct), color: '#e69f00' },
    {
      name: 'churn loop busy %',
      points: pointsOf((s) => (s.utilization === null ? null : s.utilization * 100)),
      color: '#009e73',
    },
  ];
  const charts = [
    lineChart({
      id: 'harness-lag',
      title: "churn's event-loop lag per interval",
      width: 560,
      height: 220,
      series: lagSeries,
      x,
      y: { label: 'lag', scale: 'linear', format: formatMs },
    }),
    lineChart({
      id: 'harness-host',
      title: 'Host contention and churn’s loop per interval',
      width: 560,
      height: 220,
      series: hostSeries,
      x,
      y: { label: "% of the host's CPU / of the time", scale: 'linear', format: (v) => `${v}%` },
    }),
  ];
  const stalls =
    h.stalls.length === 0
      ? '<p class="muted">No interval stalled beyond the bound.</p>'
      : `<h3>Intervals that stalled beyond the bound</h3>${table(
          ['from', 'for', 'lag max'],
          h.stalls.map((s) => ({
            cells: [
              esc(`${(s.atMs / 1000).toFixed(1)} s`),
              esc(formatDuration(s.spanMs)),
              `<span class="bad">${esc(formatMs(s.lagMaxMs))}</span>`,
            ],
          })),
        )}`;
  return [
    section(
      'harness',
      'Harness health',
      `${bannerText(report)}${summary}<div class="charts">${charts.join('')}</div>${stalls}`,
    ),
  ];
}
