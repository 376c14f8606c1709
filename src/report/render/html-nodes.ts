/**
 * The "Nodes" section of a merged report's HTML page: every part (a node of a cluster run)
 * side by side — its run's outcome, cycles, throughput, errors, cycle latency percentiles and
 * how far its phases began from the earliest part's — with a failed part's row and a part
 * that stands out (report/part-outliers.ts) marked, the figure that stands out in red, and
 * why in a list under the table.
 * Pure: report in, HTML out; nothing for a single run.
 */
import { judgeParts, type PartMark, type PartView } from '../part-outliers.js';
import type { Report } from '../schema.js';
import { formatMs, formatPercent, formatRate } from './format.js';
import { section, table } from './html-page.js';
import { esc } from './svg-chart.js';

/** The per-node section of a merged report; none for a single run. */
export function nodesSection(report: Report): string[] {
  const parts = report.mergedFrom;
  if (parts === null || parts.length === 0) return [];
  const views = judgeParts(parts);
  const starts = parts.flatMap((p) => (p.phasesStart === null ? [] : [Date.parse(p.phasesStart)]));
  const earliest = starts.length === 0 ? null : Math.min(...starts);
  const failed = views.filter((v) => v.marks.some((m) => m.kind === 'failed')).length;
  const outliers = views.filter((v) => v.marks.some((m) => m.kind === 'outlier')).length;
  const head =
    `<p>${parts.length} node${parts.length === 1 ? '' : 's'} · ` +
    (failed === 0
      ? '<span class="ok">none failed</span>'
      : `<span class="bad">${failed} failed</span>`) +
    ' · ' +
    (outliers === 0
      ? '<span class="ok">none stands out</span>'
      : `<span class="bad">${outliers} stand${outliers === 1 ? 's' : ''} out</span>`) +
    '</p>';
  const rows = views.map((v) => {
    const c = v.part.cycles;
    const ops = v.part.operations;
    const flag = (figure: PartMark['figure'], text: string): string =>
      v.marks.some((m) => m.figure === figure)
        ? `<span class="bad" data-mark="${figure}">${text}</span>`
        : text;
    const offset =
      v.part.phasesStart === null || earliest === null
        ? '-'
        : `+${Date.parse(v.part.phasesStart) - earliest} ms`;
    return {
      className: rowClass(v),
      cells: [
        esc(v.name),
        flag('run', esc(v.part.exitReason ?? '-')),
        c === null ? '-' : String(c.succeeded),
        c === null ? '-' : c.failed > 0 ? `<span class="bad">${c.failed}</span>` : '0',
        flag('throughput', c === null || c.perSec === null ? '-' : formatRate(c.perSec)),
        ops === null ? '-' : ops.errors > 0 ? `<span class="bad">${ops.errors}</span>` : '0',
        flag('errors', v.errorRatio === null ? '-' : formatPercent(v.errorRatio)),
        formatMs(c?.p50Ms),
        formatMs(c?.p90Ms),
        flag('p99', formatMs(c?.p99Ms)),
        formatMs(c?.maxMs),
        offset,
        marksCell(v.marks),
      ],
    };
  });
  const codes = views.flatMap((v) =>
    Object.entries(v.part.operations?.errorsByCode ?? {}).map(([code, n]) => ({
      cells: [esc(v.name), `<span class="bad">${esc(code)}</span>`, String(n)],
    })),
  );
  return [
    section(
      'nodes',
      'Nodes',
      head +
        table(
          [
            'node',
            'run',
            'cycles ok',
            'cycles failed',
            'cycles/s',
            'errors',
            'error ratio',
            'p50(cycle)',
            'p90(cycle)',
            'p99(cycle)',
            'max(cycle)',
            'phases began',
            '',
          ],
          rows,
        ) +
        marksList(views) +
        (codes.length === 0
          ? ''
          : `<h3>Errors by node and code</h3>${table(['node', 'code', 'count'], codes)}`) +
        '<p class="muted">Each node against the others: p99 over twice their median, an error ratio over three times theirs plus 0.1 percentage point, or under half their median cycles/s stands out. Phases began: after the earliest node\'s first phase.</p>',
    ),
  ];
}

function rowClass(v: PartView): string | undefined {
  if (v.marks.some((m) => m.kind === 'failed')) return 'node-failed';
  if (v.marks.length > 0) return 'node-outlier';
  return undefined;
}

/** The last cell of a node's row: ✓, or whether it failed or stands out (the list says why). */
function marksCell(marks: readonly PartMark[]): string {
  if (marks.length === 0) return '<span class="ok">✓</span>';
  return marks.some((m) => m.kind === 'failed')
    ? '<span class="bad">✗ failed</span>'
    : '<span class="bad">⚠ stands out</span>';
}

/** Why each marked node is marked, one item a node. */
function marksList(views: readonly PartView[]): string {
  const items = views
    .filter((v) => v.marks.length > 0)
    .map(
      (v) =>
        `<li><b>${esc(v.name)}</b>: ${v.marks
          .map((m) => `${m.kind === 'failed' ? '✗ failed' : '⚠ stands out'}: ${esc(m.text)}`)
          .join('; ')}</li>`,
    );
  return items.length === 0 ? '' : `<ul class="node-marks">${items.join('')}</ul>`;
}
