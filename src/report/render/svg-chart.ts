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
  /**
   * The series' maximum, drawn as a marker at the end of its line (`max-marker`, with its
   * value in the tooltip): a percentile line ends at 1 − 1/count, short of the max.
   */
  readonly max?: { readonly value: number; readonly label: string };
}

/** A vertical line across the plot at `x` with a label at its top: a phase starting. */
export interface ChartEvent {
  readonly x: number;
  readonly label: string;
}

/** An axis of a {@link lineChart}. */
export interface ChartAxis {
  readonly label: string;
  /** y: linear or log; x: linear or percentile (values 0–100). */
  readonly scale: 'linear' | 'log' | 'percentile';
  /** Tick label text. */
  readonly format: (value: number) => string;
  /**
   * x only: the axis' span, e.g. a timeline's [0, end]; by default the data's, from 0. The
   * axis ends there, not at the next round number.
   */
  readonly domain?: readonly [number, number];
}

/** A shaded span of x across the plot, e.g. an outage, with its label as the tooltip. */
export interface ChartBand {
  readonly from: number;
  readonly to: number;
  readonly label: string;
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
  /** Vertical markers (phase starts); those outside the x axis are left out. */
  readonly events?: readonly ChartEvent[];
  /** Shaded spans (outages), cut to the x axis; those wholly outside it are left out. */
  readonly bands?: readonly ChartBand[];
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
  const legendRows =
    Math.ceil(options.series.length / 4) +
    (options.series.some((s) => s.max !== undefined && s.points.length > 0) ? 1 : 0);
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
  const ys = series.flatMap((s) => [
    ...s.points.map(([, y]) => y),
    ...(s.max !== undefined && s.points.length > 0 && Number.isFinite(s.max.value)
      ? [s.max.value]
      : []),
  ]);
  const xScale = makeScale(
    options.x.scale,
    options.x.domain !== undefined && xs.length > 0 ? [...xs, ...options.x.domain] : xs,
    0,
    plotWidth,
    false,
  );
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
  const [xLo, xHi] = xScale.domain;
  for (const b of options.bands ?? []) {
    const from = Math.max(xLo, Math.min(b.from, b.to));
    const to = Math.min(xHi, Math.max(b.from, b.to));
    if (xs.length === 0 || !(from <= to)) continue;
    const x = round(xScale.map(from));
    const w = Math.max(1, round(xScale.map(to) - xScale.map(from)));
    parts.push(
      `<g class="band" data-band="${esc(b.label)}"><rect x="${x}" y="0" width="${w}" height="${plotHeight}" fill="#d62728" fill-opacity="0.15"/><title>${esc(b.label)}</title></g>`,
    );
  }
  for (const e of options.events ?? []) {
    if (xs.length === 0 || !(e.x >= xLo && e.x <= xHi)) continue;
    const x = round(xScale.map(e.x));
    parts.push(
      `<g class="event" data-event="${esc(e.label)}"><line x1="${x}" x2="${x}" y1="0" y2="${plotHeight}" stroke="#444" stroke-width="1" stroke-dasharray="2 3"/>` +
        `<text x="${x + 3}" y="10" font-size="10" fill="#444">${esc(e.label)}</text></g>`,
    );
  }
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
    const last = coords.at(-1);
    if (s.max !== undefined && last !== undefined && Number.isFinite(s.max.value)) {
      const y = round(yScale.map(s.max.value));
      // A tick up from the line's end to the max, capped by a ring: the tail beyond the last
      // percentile drawn.
      parts.push(
        `<g class="max-marker" data-series="${esc(s.name)}"><line x1="${last[0]}" x2="${last[0]}" y1="${last[1]}" y2="${y}" stroke="${color}" stroke-width="1" stroke-dasharray="2 2"/>` +
          `<circle cx="${last[0]}" cy="${y}" r="3.5" fill="white" stroke="${color}" stroke-width="1.6"><title>${esc(`${s.name}: ${s.max.label}`)}</title></circle></g>`,
      );
    }
  });
  parts.push('</g>');
  // Legend.
  parts.push(
    `<g class="legend" transform="translate(${margin.left},${margin.top + plotHeight + margin.bottom - 2})">`,
  );
  const withMax = series.some((s) => s.max !== undefined && s.points.length > 0);
  series.forEach((s, i) => {
    const color = s.color ?? palette[i % palette.length]!;
    const x = (i % 4) * Math.floor(plotWidth / 4);
    const y = Math.floor(i / 4) * 18;
    parts.push(
      `<line x1="${x}" x2="${x + 18}" y1="${y + 8}" y2="${y + 8}" stroke="${color}" stroke-width="3"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${x + 24}" y="${y + 12}">${esc(s.name)}${s.points.length === 0 ? ' (no data)' : ''}</text>`,
    );
  });
  if (withMax) {
    const y = Math.ceil(series.length / 4) * 18;
    parts.push(
      `<circle cx="9" cy="${y + 8}" r="3.5" fill="white" stroke="#444" stroke-width="1.6"/>`,
      `<text x="24" y="${y + 12}">max (at the end of each line)</text>`,
    );
  }
  parts.push('</g>', '</svg>');
  return parts.join('');
}

interface Scale {
  map(value: number): number;
  readonly ticks: readonly number[];
  /** The values at the axis' two ends. */
  readonly domain: readonly [number, number];
}

/** An axis' span and ticks, in data units. */
export interface AxisBounds {
  readonly lo: number;
  readonly hi: number;
  readonly ticks: readonly number[];
}

/**
 * A linear axis over `values`. y (`nice`): from 0 (or below) up to the next round step, so
 * bars of the eye start at 0. x: from 0 (or the least value below it) to the greatest value
 * exactly, so a timeline ends where its data ends, with round ticks inside.
 */
export function linearBounds(values: readonly number[], nice: boolean): AxisBounds {
  let lo = values.length === 0 ? 0 : Math.min(...values);
  let hi = values.length === 0 ? 1 : Math.max(...values);
  lo = Math.min(lo, 0);
  if (hi === lo) hi = lo + 1;
  const step = niceStep((hi - lo) / 5);
  if (nice) {
    lo = Math.floor(lo / step) * step;
    hi = Math.ceil(hi / step) * step;
  }
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step / 1e6; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return { lo, hi, ticks };
}

/** Distance to 100% in decades: 0% → 0, 90% → 1, 99% → 2, 99.9% → 3. */
export function percentileDecades(p: number): number {
  return -Math.log10(1 - p / 100);
}

/**
 * The percentile axis over `values` (0–100): from 0% to the greatest percentile drawn, with
 * ticks at 0, 90, 99, 99.9 … up to it, and one at the end when it is well past the last.
 * In decades (see {@link percentileDecades}) for `lo`/`hi`; ticks in percent.
 */
export function percentileBounds(values: readonly number[]): AxisBounds {
  const top = values.length === 0 ? 2 : Math.max(0, ...values.map(percentileDecades));
  const hi = top > 0 ? top : 2;
  const ticks = [0];
  for (let k = 1; k <= hi + 1e-9; k++) ticks.push(100 - 100 / 10 ** k);
  // The end of the data, labelled when it would not crowd the decade before it.
  if (hi - Math.floor(hi + 1e-9) >= 0.2) ticks.push(100 - 100 / 10 ** hi);
  return { lo: 0, hi, ticks };
}

function makeScale(
  kind: ChartAxis['scale'],
  values: readonly number[],
  from: number,
  to: number,
  isY: boolean,
): Scale {
  if (kind === 'percentile') {
    const { hi, ticks } = percentileBounds(values);
    return {
      map: (p) => from + (percentileDecades(p) / hi) * (to - from),
      ticks,
      domain: [0, 100 - 100 / 10 ** hi],
    };
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
      domain: [lo, hi],
    };
  }
  const { lo, hi, ticks } = linearBounds(values, isY);
  return { map: (v) => from + ((v - lo) / (hi - lo)) * (to - from), ticks, domain: [lo, hi] };
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
