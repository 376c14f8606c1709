/**
 * Line charts as inline SVG strings, for the self-contained HTML reports: no script, no
 * network, nothing to load. Scales: linear or log (y), linear or HDR-style percentile (x: the
 * distance to 100% on a log scale, so 90, 99, 99.9, 99.99 are evenly spaced).
 *
 * Every series is one `<path class="series" data-series="…" data-points="N">` with a `<title>`
 * (the browser's tooltip), so tests can check that each chart drew its data.
 */

/** One line. Points are [x, y]; non-finite points are skipped. */
export interface ChartSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  /** CSS colour; by default the palette's next. */
  readonly color?: string;
  readonly dashed?: boolean;
}

/** An axis of a {@link lineChart}. */
export interface ChartAxis {
  readonly label: string;
  /** y: linear or log; x: linear or percentile (values 0–100). */
  readonly scale: 'linear' | 'log' | 'percentile';
  /** Tick label text. */
  readonly format: (value: number) => string;
}

/** What {@link lineChart} draws. */
export interface LineChartOptions {
  /** Identifies the chart in the page (data-chart). */
  readonly id: string;
  readonly title: string;
  readonly series: readonly ChartSeries[];
  readonly x: ChartAxis;
  readonly y: ChartAxis;
  readonly width?: number;
  readonly height?: number;
}

/** Colours that stay apart on white, in order. */
export const palette = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#7f7f7f',
  '#bcbd22',
  '#393b79',
  '#637939',
];

const margin = { top: 28, right: 30, bottom: 40, left: 64 };

/** An SVG line chart; see the module comment. */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 720;
  const legendRows = Math.ceil(options.series.length / 4);
  const plotHeight = (options.height ?? 260) - margin.top - margin.bottom;
  const height = margin.top + plotHeight + margin.bottom + legendRows * 18;
  const plotWidth = width - margin.left - margin.right;

  const series = options.series.map((s) => ({
    ...s,
    points: s.points.filter(
      ([x, y]) =>
        Number.isFinite(x) &&
        Number.isFinite(y) &&
        (options.y.scale !== 'log' || y > 0) &&
        (options.x.scale !== 'percentile' || (x >= 0 && x < 100)),
    ),
  }));
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const ys = series.flatMap((s) => s.points.map(([, y]) => y));
  const xScale = makeScale(options.x.scale, xs, 0, plotWidth, false);
  const yScale = makeScale(options.y.scale, ys, plotHeight, 0, true);

  const parts: string[] = [];
  parts.push(
    `<svg class="chart" data-chart="${esc(options.id)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(options.title)}">`,
    `<text class="chart-title" x="${margin.left}" y="18">${esc(options.title)}</text>`,
    `<g transform="translate(${margin.left},${margin.top})">`,
  );
  // Grid and ticks.
  parts.push('<g class="grid">');
  for (const t of yScale.ticks) {
    const y = round(yScale.map(t));
    parts.push(
      `<line x1="0" x2="${plotWidth}" y1="${y}" y2="${y}"/>`,
      `<text class="tick" x="-6" y="${y + 4}" text-anchor="end">${esc(options.y.format(t))}</text>`,
    );
  }
  for (const t of xScale.ticks) {
    const x = round(xScale.map(t));
    parts.push(
      `<line x1="${x}" x2="${x}" y1="0" y2="${plotHeight}"/>`,
      `<text class="tick" x="${x}" y="${plotHeight + 16}" text-anchor="middle">${esc(options.x.format(t))}</text>`,
    );
  }
  parts.push('</g>');
  parts.push(
    `<rect class="frame" x="0" y="0" width="${plotWidth}" height="${plotHeight}"/>`,
    `<text class="axis-label" x="${plotWidth / 2}" y="${plotHeight + 34}" text-anchor="middle">${esc(options.x.label)}</text>`,
    `<text class="axis-label" transform="translate(-50,${plotHeight / 2}) rotate(-90)" text-anchor="middle">${esc(options.y.label)}</text>`,
  );
  if (xs.length === 0) {
    parts.push(
      `<text class="no-data" x="${plotWidth / 2}" y="${plotHeight / 2}" text-anchor="middle">no data</text>`,
    );
  }
  series.forEach((s, i) => {
    const color = s.color ?? palette[i % palette.length]!;
    const coords = s.points.map(([x, y]) => [round(xScale.map(x)), round(yScale.map(y))] as const);
    const title = `<title>${esc(s.name)}</title>`;
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : '';
    if (coords.length === 1) {
      const [x, y] = coords[0]!;
      parts.push(
        `<path class="series" data-series="${esc(s.name)}" data-points="1" d="M${x},${y}h0.01" stroke="${color}" stroke-width="6" stroke-linecap="round"${dash}>${title}</path>`,
      );
    } else if (coords.length > 1) {
      const d = coords.map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${x},${y}`).join('');
      parts.push(
        `<path class="series" data-series="${esc(s.name)}" data-points="${coords.length}" d="${d}" stroke="${color}" fill="none" stroke-width="1.6"${dash}>${title}</path>`,
      );
    }
  });
  parts.push('</g>');
  // Legend.
  parts.push(
    `<g class="legend" transform="translate(${margin.left},${margin.top + plotHeight + margin.bottom - 2})">`,
  );
  series.forEach((s, i) => {
    const color = s.color ?? palette[i % palette.length]!;
    const x = (i % 4) * Math.floor(plotWidth / 4);
    const y = Math.floor(i / 4) * 18;
    parts.push(
      `<line x1="${x}" x2="${x + 18}" y1="${y + 8}" y2="${y + 8}" stroke="${color}" stroke-width="3"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${x + 24}" y="${y + 12}">${esc(s.name)}${s.points.length === 0 ? ' (no data)' : ''}</text>`,
    );
  });
  parts.push('</g>', '</svg>');
  return parts.join('');
}

interface Scale {
  map(value: number): number;
  readonly ticks: readonly number[];
}

function makeScale(
  kind: ChartAxis['scale'],
  values: readonly number[],
  from: number,
  to: number,
  isY: boolean,
): Scale {
  if (kind === 'percentile') {
    const t = (p: number): number => -Math.log10(1 - p / 100);
    const maxT = Math.max(2, Math.ceil(Math.max(0, ...values.map(t))));
    const ticks = [0, ...Array.from({ length: maxT }, (_, k) => 100 - 100 / 10 ** (k + 1))];
    return { map: (p) => from + (t(p) / maxT) * (to - from), ticks };
  }
  if (kind === 'log') {
    let lo = values.length === 0 ? 1 : Math.min(...values);
    let hi = values.length === 0 ? 10 : Math.max(...values);
    lo = 10 ** Math.floor(Math.log10(lo));
    hi = 10 ** Math.ceil(Math.log10(hi));
    if (hi <= lo) hi = lo * 10;
    const span = Math.log10(hi) - Math.log10(lo);
    const ticks: number[] = [];
    for (let e = Math.log10(lo); e <= Math.log10(hi) + 1e-9; e++) {
      for (const m of span <= 2 ? [1, 2, 5] : [1]) {
        const v = m * 10 ** e;
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push(Number(v.toPrecision(6)));
      }
    }
    return {
      map: (v) => from + ((Math.log10(v) - Math.log10(lo)) / span) * (to - from),
      ticks,
    };
  }
  let lo = values.length === 0 ? 0 : Math.min(...values);
  let hi = values.length === 0 ? 1 : Math.max(...values);
  if (isY || lo > 0) lo = Math.min(lo, 0);
  if (hi === lo) hi = lo + 1;
  const step = niceStep((hi - lo) / 5);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let v = lo; v <= hi + step / 1e6; v += step) ticks.push(Number(v.toPrecision(12)));
  return { map: (v) => from + ((v - lo) / (hi - lo)) * (to - from), ticks };
}

/** 1, 2 or 5 × a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

/** Escapes text for SVG/HTML content and attribute values. */
export function esc(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
