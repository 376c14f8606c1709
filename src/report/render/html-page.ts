/**
 * The shell of churn's HTML pages: one self-contained document (inline CSS, inline SVG, no
 * script) whose Content-Security-Policy forbids loading anything, so a report opened from a CI
 * artifact or an e-mail never reaches the network. Plus small helpers for tables.
 */
import { esc } from './svg-chart.js';

const style = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
header { background: #1d2330; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 20px; font-weight: 600; }
header .sub { color: #c5cbd6; }
main { padding: 8px 28px 40px; max-width: 1560px; }
section { background: #fff; border: 1px solid #e2e5ea; border-radius: 6px; padding: 14px 18px; margin: 16px 0; }
h2 { font-size: 16px; margin: 0 0 10px; }
h3 { font-size: 14px; margin: 12px 0 6px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid #eceef2; text-align: right; white-space: nowrap; }
th { font-weight: 600; color: #5a6375; background: #fafbfc; }
td:first-child, th:first-child, td.l, th.l { text-align: left; }
tr.cycle td { font-weight: 600; }
.ok { color: #1a7f37; } .bad { color: #cf222e; font-weight: 600; } .muted { color: #8a93a3; }
.regression td { background: #fff0f0; } .improvement td { background: #effaf1; }
.node-failed td { background: #fff0f0; } .node-outlier td { background: #fff8e5; }
.verdict-regression { color: #cf222e; font-weight: 700; } .verdict-improvement { color: #1a7f37; font-weight: 700; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
svg.chart { background: #fff; max-width: 100%; height: auto; }
svg.chart .chart-title { font-size: 13px; font-weight: 600; fill: #1d2330; }
svg.chart .grid line { stroke: #eceef2; }
svg.chart .tick { font-size: 10px; fill: #5a6375; }
svg.chart .axis-label { font-size: 11px; fill: #5a6375; }
svg.chart .frame { fill: none; stroke: #c9ced6; }
svg.chart .legend text { font-size: 11px; fill: #1d2330; }
svg.chart .no-data { font-size: 13px; fill: #8a93a3; }
.warn { background: #fff8e5; border-left: 4px solid #d4a72c; padding: 6px 10px; margin: 6px 0; }
pre { background: #f6f8fa; padding: 10px; overflow: auto; font-size: 12px; }
details summary { cursor: pointer; color: #3b4456; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.facts dt { color: #5a6375; } dl.facts dd { margin: 0; }
`;

/** A complete HTML document with `title`, a header and `sections` (already HTML). */
export function htmlPage(title: string, subtitle: string, sections: readonly string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="churn">',
    `<title>${esc(title)}</title>`,
    `<style>${style}</style>`,
    '</head>',
    '<body>',
    `<header><h1>${esc(title)}</h1><div class="sub">${esc(subtitle)}</div></header>`,
    '<main>',
    ...sections,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** A `<section>` with a heading. */
export function section(id: string, heading: string, body: string): string {
  return `<section id="${esc(id)}"><h2>${esc(heading)}</h2>${body}</section>`;
}

/** A table: `headers`, then rows of cells (already HTML), optional class per row. */
export function table(
  headers: readonly string[],
  rows: readonly { readonly cells: readonly string[]; readonly className?: string }[],
): string {
  const head = `<tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const body = rows
    .map(
      (r) =>
        `<tr${r.className === undefined ? '' : ` class="${esc(r.className)}"`}>${r.cells.map((c) => `<td>${c}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<table><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

/** A definition list of facts (values are text, escaped here). */
export function facts(entries: readonly (readonly [string, string])[]): string {
  return `<dl class="facts">${entries.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}
