/**
 * `churn compare --format md`: for a pull-request comment. The verdicts first (the rows that
 * changed), the full table folded in `<details>`, the runs, the method and the warnings. A
 * cross-runtime comparison says so in its heading, and names each side's runtime below it.
 */
import type { Comparison, ComparisonRow } from '../compare/compare.js';
import { statisticInfo } from '../compare/statistics.js';
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
import { escape } from './markdown.js';

/** Renders `comparison` as GitHub-flavoured Markdown. */
export function renderCompareMarkdown(comparison: Comparison): string {
  const out: string[] = [];
  out.push(`## ${compareTitle(comparison)}: \`${comparison.scenario}\``, '');
  const runtimes = acrossRuntimesLine(comparison);
  if (runtimes !== undefined) out.push(`**${escape(runtimes)}**`, '');
  out.push(`${summaryLine(comparison)} · ${methodLine(comparison)}`, '');
  const changed = comparison.rows.filter((r) => r.verdict !== '~');
  if (changed.length === 0) {
    out.push('No significant change.');
  } else {
    out.push(...table(changed));
  }
  out.push('', `<details><summary>All ${comparison.rows.length} comparisons</summary>`, '');
  out.push(...table(comparison.rows));
  out.push(
    '',
    '</details>',
    '',
    '| side | report | run | start | runtime |',
    '|---|---|---|---|---|',
  );
  for (const [label, runs] of [
    ['base', comparison.base],
    ['candidate', comparison.candidate],
  ] as const) {
    for (const run of runs) {
      out.push(
        `| ${label} | \`${escape(run.source)}\` | \`${run.runId}\`${run.checkpoint ? ' (checkpoint, partial)' : run.partial ? ' (partial)' : ''}${run.marks.length === 0 ? '' : ` **(${run.marks.join(', ')})**`} | ${formatTime(run.start)} | ${escape(run.runtime)} |`,
      );
    }
  }
  out.push('', `<sub>${escape(legend(comparison))}</sub>`);
  for (const note of comparison.notes) out.push('', `Note: ${escape(note)}`);
  if (comparison.warnings.length > 0) {
    out.push('');
    for (const w of comparison.warnings) out.push(`> **Warning:** ${escape(w)}`, '>');
    out.pop();
  }
  return `${out.join('\n')}\n`;
}

function table(rows: readonly ComparisonRow[]): string[] {
  const out = [
    '| op | stat | base | candidate | delta | CI | p | n | verdict |',
    '|---|---|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const row of rows) {
    const verdict =
      row.verdict === 'regression'
        ? '**regression**'
        : row.verdict === 'improvement'
          ? '**improvement**'
          : `~${row.note === null ? '' : ` (${row.note})`}`;
    out.push(
      `| ${row.op} | ${statisticInfo[row.statistic].label} | ${formatValue(row.unit, row.base)} | ${formatValue(row.unit, row.candidate)} | ${formatDeltaPct(row.deltaPct, row.base, row.candidate)} | ${row.ci === null ? '' : formatCi(row.ci)} | ${formatP(row.p)} | ${formatN(row)} | ${verdict} |`,
    );
  }
  return out;
}
