/**
 * `churn compare --format html`: the comparison table with verdicts, and per operation the two
 * latency distributions overlaid (base solid, candidate dashed; HDR-style percentile axis), one
 * self-contained page. Pure: comparison and reports in, string out. A cross-runtime comparison
 * says so in its title, and names each side's runtime in the line below it.
 */
import type { OpName } from '../../common/operations.js';
import type { Comparison } from '../compare/compare.js';
import type { LoadedReport } from '../compare/samples.js';
import { statisticInfo } from '../compare/statistics.js';
import { Distribution } from '../distribution.js';
import {
  acrossRuntimesLine,
  compareTitle,
  formatCi,
  formatN,
  legend,
  methodLine,
  summaryLine,
} from './compare-terminal.js';
import { formatDeltaPct, formatP, formatTime, formatValue } from './format.js';
import { htmlPage, section, table } from './html-page.js';
import { percentileChart } from './html.js';
import { esc } from './svg-chart.js';

/** Renders `comparison` of `base` and `candidate` (the reports it was made from) as HTML. */
export function renderCompareHtml(
  comparison: Comparison,
  base: readonly LoadedReport[],
  candidate: readonly LoadedReport[],
): string {
  const runs = table(
    ['side', 'report', 'run', 'start', 'runtime'],
    [
      ...comparison.base.map((r) => ({ ...r, side: 'base' })),
      ...comparison.candidate.map((r) => ({ ...r, side: 'candidate' })),
    ].map((r) => ({
      cells: [
        r.side,
        esc(r.source),
        esc(r.runId) +
          (r.checkpoint
            ? ' <span class="bad">(checkpoint, partial)</span>'
            : r.partial
              ? ' <span class="bad">(partial)</span>'
              : '') +
          (r.marks.length === 0 ? '' : ` <span class="bad">(${esc(r.marks.join(', '))})</span>`),
        esc(formatTime(r.start)),
        esc(r.runtime),
      ],
    })),
  );
  const rows = table(
    ['op', 'stat', 'base', 'candidate', 'delta', 'CI', 'p', 'n', 'verdict'],
    comparison.rows.map((row, i) => ({
      className: row.verdict === '~' ? undefined : row.verdict,
      cells: [
        comparison.rows[i - 1]?.op === row.op ? '' : esc(row.op),
        esc(statisticInfo[row.statistic].label),
        esc(formatValue(row.unit, row.base)),
        esc(formatValue(row.unit, row.candidate)),
        esc(formatDeltaPct(row.deltaPct, row.base, row.candidate)),
        row.ci === null ? '' : esc(formatCi(row.ci)),
        esc(formatP(row.p)),
        esc(formatN(row)),
        `<span class="verdict-${row.verdict === '~' ? 'none' : row.verdict}">${esc(row.verdict)}</span>${row.note === null ? '' : ` <span class="muted">(${esc(row.note)})</span>`}`,
      ],
    })),
  );
  const ops = [...new Set(comparison.rows.map((r) => r.op))];
  const charts = ops.map((op) => {
    const sides = [
      ['base', pooled(base, op)],
      ['candidate', pooled(candidate, op)],
    ] as const;
    const verdicts = comparison.rows
      .filter((r) => r.op === op && r.verdict !== '~' && r.unit === 'ms')
      .map((r) => `${statisticInfo[r.statistic].label} ${r.verdict}`);
    if (sides.every(([, d]) => d.total === 0)) {
      const errors = (side: readonly LoadedReport[]): number =>
        side.reduce((n, { report }) => n + (report.operations[op]?.errors ?? 0), 0);
      return `<div class="no-successes" data-note="compare-${esc(op)}"><h3>${esc(op)}</h3><p class="muted">No successful operations on either side (${errors(base)} and ${errors(candidate)} failed).</p></div>`;
    }
    return percentileChart(
      `compare-${op}`,
      `${op}${verdicts.length === 0 ? '' : ` — ${verdicts.join(', ')}`}`,
      sides.map(([name, d]) => [name, d] as const),
      ['#1f77b4', '#d62728'],
      [false, true],
      560,
    );
  });
  const warnings = comparison.warnings.map((w) => `<div class="warn">${esc(w)}</div>`).join('');
  const runtimes = acrossRuntimesLine(comparison);
  return htmlPage(
    `${compareTitle(comparison)} · ${comparison.scenario}`,
    `${runtimes === undefined ? '' : `${runtimes} · `}${summaryLine(comparison)} · ${methodLine(comparison)}`,
    [
      section('runs', 'Runs', runs + warnings),
      section(
        'comparison',
        'Comparison',
        rows +
          comparison.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('') +
          `<p class="muted">${esc(legend(comparison))}</p>`,
      ),
      section(
        'distributions',
        'Latency distributions, base vs candidate',
        `<div class="charts">${charts.join('')}</div>`,
      ),
    ],
  );
}

/** The side's histograms of `op` added up. */
function pooled(side: readonly LoadedReport[], op: OpName): Distribution {
  return Distribution.sum(
    side.flatMap(({ report, source }) => {
      const h = report.operations[op]?.histogram;
      return h === null || h === undefined
        ? []
        : [Distribution.fromEncoded(h, `${source}: operations.${op}.histogram`)];
    }),
  );
}
