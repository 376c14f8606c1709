/**
 * A check of a Grafana dashboard JSON file without a Grafana server: its shape against the
 * dashboard JSON model (Grafana's classic model, schemaVersion 36 and later: the top-level
 * fields, panels and rows, targets, template variables, as Grafana's dashboard docs describe
 * them; unknown keys are refused, so a misspelt key fails instead of being ignored by Grafana),
 * then what a schema cannot say: unique panel ids and variable names, panels that fit the 24
 * columns and do not overlap, a datasource on every panel and target, unique refIds, and every
 * `$variable` used defined (a variable's own query may use only those before it).
 *
 * @grafana/schema on npm publishes the dashboard model as TypeScript types only (no JSON
 * schema a test could validate a file with), hence this module.
 */
import { z } from 'zod';

/** Grafana's global variables, usable anywhere without a definition. */
const builtinVariables = new Set([
  '__all',
  '__dashboard',
  '__from',
  '__to',
  '__interval',
  '__interval_ms',
  '__rate_interval',
  '__rate_interval_ms',
  '__range',
  '__range_s',
  '__range_ms',
  '__name',
  '__org',
  '__user',
  '__timezone',
  '__timeFilter',
  '__field',
  '__series',
  '__value',
  '__data',
  '__cell',
  '__url_time_range',
]);

/** Core panel types of Grafana 9–11 (a plugin panel would need adding here). */
const panelTypes = [
  'timeseries',
  'stat',
  'gauge',
  'bargauge',
  'table',
  'heatmap',
  'histogram',
  'barchart',
  'piechart',
  'state-timeline',
  'status-history',
  'text',
  'logs',
  'nodeGraph',
  'traces',
  'xychart',
  'candlestick',
  'alertlist',
  'dashlist',
  'news',
  'annolist',
  'canvas',
  'geomap',
  'trend',
  'flamegraph',
] as const;

const datasourceRef = z.strictObject({ type: z.string().min(1), uid: z.string().min(1) });

const gridPos = z.strictObject({
  h: z.number().int().min(1),
  w: z.number().int().min(1).max(24),
  x: z.number().int().min(0).max(23),
  y: z.number().int().min(0),
  static: z.boolean().optional(),
});

const target = z.strictObject({
  refId: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/),
  datasource: datasourceRef.optional(),
  expr: z.string().optional(),
  legendFormat: z.string().optional(),
  range: z.boolean().optional(),
  instant: z.boolean().optional(),
  format: z.enum(['time_series', 'table', 'heatmap']).optional(),
  interval: z.string().optional(),
  intervalFactor: z.number().optional(),
  exemplar: z.boolean().optional(),
  editorMode: z.enum(['code', 'builder']).optional(),
  hide: z.boolean().optional(),
});

const fieldConfig = z.strictObject({
  defaults: z.record(z.string(), z.unknown()),
  overrides: z.array(
    z.strictObject({
      matcher: z.strictObject({ id: z.string().min(1), options: z.unknown() }),
      properties: z.array(z.strictObject({ id: z.string().min(1), value: z.unknown() })),
    }),
  ),
});

const panelCommon = {
  id: z.number().int().min(1),
  title: z.string(),
  description: z.string().optional(),
  gridPos,
  datasource: datasourceRef.optional(),
  repeat: z.string().optional(),
  repeatDirection: z.enum(['h', 'v']).optional(),
  links: z.array(z.unknown()).optional(),
};

const panel = z.strictObject({
  ...panelCommon,
  type: z.enum(panelTypes),
  targets: z.array(target).optional(),
  fieldConfig: fieldConfig.optional(),
  options: z.record(z.string(), z.unknown()).optional(),
  transformations: z
    .array(
      z.strictObject({
        id: z.string().min(1),
        options: z.record(z.string(), z.unknown()),
        disabled: z.boolean().optional(),
      }),
    )
    .optional(),
  pluginVersion: z.string().optional(),
  interval: z.string().optional(),
  maxDataPoints: z.number().optional(),
  timeFrom: z.string().optional(),
  timeShift: z.string().optional(),
  hideTimeOverride: z.boolean().optional(),
  transparent: z.boolean().optional(),
});

const row = z.strictObject({
  ...panelCommon,
  type: z.literal('row'),
  collapsed: z.boolean(),
  /** Empty unless collapsed: then the row holds its panels. */
  panels: z.array(panel),
});

const variableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/);
const variableCommon = {
  name: variableName,
  label: z.string().optional(),
  description: z.string().optional(),
  hide: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  current: z.record(z.string(), z.unknown()),
  options: z.array(z.unknown()),
  skipUrlSync: z.boolean().optional(),
};
const selectable = {
  includeAll: z.boolean(),
  allValue: z.string().optional(),
  multi: z.boolean(),
};

const variable = z.discriminatedUnion('type', [
  z.strictObject({
    ...variableCommon,
    ...selectable,
    type: z.literal('query'),
    datasource: datasourceRef,
    definition: z.string().min(1),
    query: z.union([
      z.string().min(1),
      z.strictObject({ query: z.string().min(1), refId: z.string().min(1) }),
    ]),
    refresh: z.union([z.literal(1), z.literal(2)]),
    sort: z.number().int().min(0).max(8),
    regex: z.string(),
  }),
  z.strictObject({
    ...variableCommon,
    ...selectable,
    type: z.literal('datasource'),
    query: z.string().min(1),
    refresh: z.literal(1),
    regex: z.string(),
  }),
  z.strictObject({
    ...variableCommon,
    ...selectable,
    type: z.literal('custom'),
    query: z.string(),
  }),
  z.strictObject({ ...variableCommon, type: z.literal('constant'), query: z.string() }),
  z.strictObject({ ...variableCommon, type: z.literal('textbox'), query: z.string() }),
  z.strictObject({
    ...variableCommon,
    type: z.literal('interval'),
    query: z.string().min(1),
    auto: z.boolean().optional(),
    auto_count: z.number().optional(),
    auto_min: z.string().optional(),
    refresh: z.literal(2).optional(),
  }),
]);

const dashboardSchema = z.strictObject({
  id: z.number().int().nullable().optional(),
  uid: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/),
  title: z.string().min(1),
  description: z.string().optional(),
  tags: z.array(z.string()),
  editable: z.boolean(),
  graphTooltip: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  refresh: z.union([z.string(), z.literal(false)]),
  schemaVersion: z.number().int().min(36),
  version: z.number().int().min(0),
  time: z.strictObject({ from: z.string().min(1), to: z.string().min(1) }),
  timepicker: z.record(z.string(), z.unknown()),
  timezone: z.string(),
  weekStart: z.string().optional(),
  fiscalYearStartMonth: z.number().int().min(0).max(11).optional(),
  liveNow: z.boolean().optional(),
  links: z.array(z.unknown()),
  annotations: z.strictObject({
    list: z.array(
      z.strictObject({
        builtIn: z.number().optional(),
        datasource: datasourceRef,
        enable: z.boolean(),
        hide: z.boolean().optional(),
        iconColor: z.string(),
        name: z.string().min(1),
        type: z.string().optional(),
        expr: z.string().optional(),
      }),
    ),
  }),
  templating: z.strictObject({ list: z.array(variable) }),
  panels: z.array(z.discriminatedUnion('type', [row, panel])),
});

type Dashboard = z.output<typeof dashboardSchema>;
type AnyPanel = Dashboard['panels'][number];

/** `$name`, `${name}`, `${name:format}` and `[[name]]` references in `text`. */
export function variableReferences(text: string): string[] {
  const names = [
    ...text.matchAll(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z_][A-Za-z0-9_]*)\]\]/g,
    ),
  ].map((m) => m[1] ?? m[2] ?? m[3]!);
  return [...new Set(names)];
}

/**
 * What is wrong with `json` as a Grafana dashboard (see the module comment), each problem as
 * `where: what`; empty when nothing is.
 */
export function dashboardProblems(json: unknown): string[] {
  const parsed = dashboardSchema.safeParse(json);
  if (!parsed.success) {
    return parsed.error.issues.map((i) => `${i.path.join('.') || '(dashboard)'}: ${i.message}`);
  }
  const d = parsed.data;
  const problems: string[] = [];
  const all: AnyPanel[] = d.panels.flatMap((p) => (p.type === 'row' ? [p, ...p.panels] : [p]));
  const where = (p: AnyPanel): string => `panel ${p.id} "${p.title}"`;

  const ids = new Map<number, AnyPanel>();
  for (const p of all) {
    const seen = ids.get(p.id);
    if (seen !== undefined) problems.push(`${where(p)}: id ${p.id} is also ${where(seen)}'s`);
    ids.set(p.id, p);
  }

  // Layout: within the 24 columns, rows full-width, no two panels on the same cells.
  const top = d.panels;
  for (const p of top) {
    const g = p.gridPos;
    if (g.x + g.w > 24) problems.push(`${where(p)}: gridPos x + w = ${g.x + g.w} > 24`);
    if (p.type === 'row' && (g.x !== 0 || g.w !== 24 || g.h !== 1)) {
      problems.push(`${where(p)}: a row spans the full width, one unit high`);
    }
  }
  for (let i = 0; i < top.length; i++) {
    for (let j = i + 1; j < top.length; j++) {
      const a = top[i]!.gridPos;
      const b = top[j]!.gridPos;
      if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) {
        problems.push(`${where(top[i]!)} and ${where(top[j]!)} overlap`);
      }
    }
  }

  // Variables: unique names, each query using only variables defined before it.
  const defined = new Set<string>();
  for (const v of d.templating.list) {
    if (defined.has(v.name)) problems.push(`variable ${v.name}: defined twice`);
    const texts =
      v.type === 'query'
        ? [v.definition, typeof v.query === 'string' ? v.query : v.query.query, v.datasource.uid]
        : v.type === 'datasource'
          ? []
          : [v.query];
    for (const name of texts.flatMap(variableReferences)) {
      if (!defined.has(name) && !builtinVariables.has(name)) {
        problems.push(`variable ${v.name}: uses $${name}, not defined before it`);
      }
    }
    defined.add(v.name);
  }

  // Panels: a datasource on each panel and target, unique refIds, only defined variables.
  for (const p of all) {
    const texts = [p.title, p.datasource?.uid ?? '', p.repeat ?? ''];
    if (p.type !== 'row') {
      if (p.datasource === undefined) problems.push(`${where(p)}: no datasource`);
      const targets = p.targets ?? [];
      if (targets.length === 0) problems.push(`${where(p)}: no target`);
      const refIds = new Set<string>();
      for (const t of targets) {
        if (refIds.has(t.refId)) problems.push(`${where(p)}: refId ${t.refId} twice`);
        refIds.add(t.refId);
        if (t.datasource === undefined) problems.push(`${where(p)} ${t.refId}: no datasource`);
        if ((t.expr ?? '').trim() === '') problems.push(`${where(p)} ${t.refId}: no expr`);
        texts.push(t.expr ?? '', t.legendFormat ?? '', t.datasource?.uid ?? '', t.interval ?? '');
      }
    }
    for (const name of texts.flatMap(variableReferences)) {
      if (!defined.has(name) && !builtinVariables.has(name)) {
        problems.push(`${where(p)}: uses $${name}, which no variable defines`);
      }
    }
  }
  return problems;
}
