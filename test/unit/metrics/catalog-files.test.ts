// The shipped files that name metrics stay in step with the catalog: docs/metrics.md is its
// rendering, and the dashboard and the alert rules use only metrics that exist (with labels
// they have). The dashboard is importable and provisionable in the shape Grafana expects.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { metricCatalog, metricOfSeries } from '../../../src/metrics/catalog.js';
import { updateCatalogSection } from '../../../src/metrics/catalog-doc.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

interface Target {
  readonly expr?: string;
  readonly datasource?: { readonly type: string; readonly uid: string };
  readonly format?: string;
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly datasource?: { readonly type: string; readonly uid: string };
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
  readonly gridPos: { h: number; w: number; x: number; y: number };
}
interface Variable {
  readonly type: string;
  readonly name: string;
  readonly query?: unknown;
  readonly definition?: string;
  readonly includeAll?: boolean;
  readonly allValue?: string;
}
interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly Variable[] };
}

const dashboard = JSON.parse(read('dashboards/churn.json')) as Dashboard;
const rules = parseYaml(read('dashboards/alerts.yaml')) as {
  groups: { name: string; rules: { alert: string; expr: string; for?: string }[] }[];
};

function allPanels(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}
const panels = allPanels(dashboard.panels).filter((p) => p.type !== 'row');
const dashboardExprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
const variableExprs = dashboard.templating.list.flatMap((v) => v.definition ?? []);
const alertExprs = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));

/** Every `churn_…` name an expression uses, with the labels its selectors mention. */
function usedSeries(expr: string): { name: string; labels: string[] }[] {
  const out: { name: string; labels: string[] }[] = [];
  for (const m of expr.matchAll(/\b(churn_[a-z0-9_]+)(\{([^}]*)\})?/g)) {
    const labels = [...(m[3] ?? '').matchAll(/([a-z_]+)\s*(=~|!~|!=|=)/g)].map((l) => l[1]!);
    out.push({ name: m[1]!, labels });
  }
  return out;
}

describe('docs/metrics.md', () => {
  it('holds the catalog as rendered now (regenerate: npx tsx scripts/gen-metrics-doc.ts)', () => {
    const doc = read('docs/metrics.md');
    expect(updateCatalogSection(doc)).toBe(doc);
    for (const m of metricCatalog) expect(doc).toContain(`| \`${m.name}\` | ${m.type} |`);
  });
});

describe('dashboards and alert rules use only catalogued metrics', () => {
  it.each([
    ['dashboards/churn.json', [...dashboardExprs, ...variableExprs]],
    ['dashboards/alerts.yaml', alertExprs],
  ])('%s', (_file, exprs) => {
    const problems: string[] = [];
    for (const expr of exprs) {
      const used = usedSeries(expr);
      if (used.length === 0) problems.push(`uses no churn metric: ${expr}`);
      for (const { name, labels } of used) {
        const spec = metricOfSeries(name);
        if (spec === undefined) {
          problems.push(`${name} is not in the catalog: ${expr}`);
          continue;
        }
        // instance and job from Prometheus; node from the scrape's relabeling on Kubernetes
        // (deploy/kubernetes/components/podmonitor).
        const known = new Set([
          ...spec.labels,
          'instance',
          'job',
          'node',
          ...(name.endsWith('_bucket') ? ['le'] : []),
        ]);
        for (const label of labels) {
          if (!known.has(label)) problems.push(`${name} has no label ${label}: ${expr}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every metric of the catalog is on the dashboard', () => {
    const used = new Set(
      [...dashboardExprs].flatMap((e) => usedSeries(e).map((u) => metricOfSeries(u.name)!.name)),
    );
    expect(metricCatalog.map((m) => m.name).filter((n) => !used.has(n))).toEqual([]);
  });
});

describe('dashboards/churn.json', () => {
  it('is an importable dashboard with a stable uid and a datasource variable every query uses', () => {
    expect(dashboard.uid).toBe('churn');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const ds = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(ds).toMatchObject({ name: 'datasource', query: 'prometheus' });
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.datasource, panel.title).toEqual(panel.datasource);
        expect(target.expr?.trim(), panel.title).not.toBe('');
      }
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
  });

  it('has scenario, driver, node and instance variables, and every query is filtered by node and instance', () => {
    for (const name of ['scenario', 'driver', 'node', 'instance']) {
      const v = dashboard.templating.list.find((x) => x.name === name);
      expect(v, name).toMatchObject({ type: 'query', includeAll: true, allValue: '.*' });
      expect(v?.definition, name).toMatch(/^label_values\(churn_run_info/);
    }
    for (const expr of dashboardExprs) {
      expect(expr).toContain('node=~"$node", instance=~"$instance"');
      if (/churn_(operation|cycles|inflight|scheduler|run)/.test(expr)) {
        expect(expr).toContain('scenario=~"$scenario"');
        expect(expr).toContain('driver=~"$driver"');
      }
    }
  });

  it('takes its node variable from the label the PodMonitor sets, with panels by node', () => {
    const monitor = parseYaml(read('deploy/kubernetes/components/podmonitor/podmonitor.yaml')) as {
      spec: { podMetricsEndpoints: { relabelings?: unknown[] }[] };
    };
    expect(monitor.spec.podMetricsEndpoints[0]!.relabelings).toContainEqual({
      sourceLabels: ['__meta_kubernetes_pod_node_name'],
      targetLabel: 'node',
    });
    const node = dashboard.templating.list.find((v) => v.name === 'node');
    expect(node?.definition).toBe(
      'label_values(churn_run_info{scenario=~"$scenario", driver=~"$driver"}, node)',
    );
    const byNode = panels.filter((p) =>
      (p.targets ?? []).some((t) => /\bby \((le, )?node\)/.test(t.expr ?? '')),
    );
    expect(byNode.map((p) => p.title)).toEqual([
      'Nodes side by side',
      'Cycle rate by node',
      'p99(cycle) by node',
      'Error ratio by node',
    ]);
  });

  it('has the panels issue 5 asks for', () => {
    const has = (pattern: RegExp): boolean => dashboardExprs.some((e) => pattern.test(e));
    expect(has(/rate\(churn_cycles_total\{/)).toBe(true);
    for (const q of ['0.5', '0.99']) {
      expect(
        has(
          new RegExp(
            `^histogram_quantile\\(${q.replace('.', '\\.')}, sum by \\(le, op\\) \\(rate\\(churn_operation_duration_seconds_bucket\\{[^}]*\\}\\[\\$__rate_interval\\]\\)\\)\\)$`,
          ),
        ),
        `p${q} by op`,
      ).toBe(true);
    }
    const heatmap = panels.find((p) => p.type === 'heatmap');
    expect(heatmap?.targets?.[0]).toMatchObject({ format: 'heatmap' });
    expect(heatmap?.targets?.[0]?.expr).toMatch(/churn_operation_duration_seconds_bucket/);
    expect(has(/sum by \(op, code\) \(rate\(churn_operations_total\{[^}]*outcome="error"/)).toBe(
      true,
    );
    for (const metric of [
      'churn_inflight_cycles',
      'churn_cycles_dropped_total',
      'churn_scheduler_lag_seconds_bucket',
      'churn_target_cpu_seconds_total',
      'churn_target_resident_memory_bytes',
      'churn_target_open_fds',
      'churn_target_threads',
      'churn_target_shims',
      'churn_process_cpu_seconds_total',
      'churn_process_event_loop_lag_p99_seconds',
    ]) {
      expect(has(new RegExp(`\\b${metric}\\{`)), metric).toBe(true);
    }
  });
});

describe('dashboards/provisioning and alerts.yaml', () => {
  it('provisions a file provider and a Prometheus datasource', () => {
    const provider = parseYaml(read('dashboards/provisioning/dashboards/churn.yaml')) as {
      apiVersion: number;
      providers: { type: string; options: { path: string } }[];
    };
    expect(provider.apiVersion).toBe(1);
    expect(provider.providers[0]).toMatchObject({ type: 'file' });
    expect(provider.providers[0]!.options.path).toMatch(/^\//);
    const datasources = parseYaml(
      read('dashboards/provisioning/datasources/churn-prometheus.yaml'),
    ) as { apiVersion: number; datasources: { type: string; url: string }[] };
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources[0]).toMatchObject({ type: 'prometheus' });
  });

  it('covers error ratio over 0.1%, p99, RSS and fd growth and no progress, each ending in a comparison', () => {
    const byName = new Map(rules.groups.flatMap((g) => g.rules).map((r) => [r.alert, r]));
    expect(byName.get('ChurnErrorRatioHigh')?.expr).toMatch(/> 0\.001\s*$/);
    expect(byName.get('ChurnLatencyP99High')?.expr).toMatch(/histogram_quantile\(0\.99,/);
    expect(byName.get('ChurnTargetMemoryGrowing')?.expr).toMatch(
      /churn_target_resident_memory_bytes/,
    );
    expect(byName.get('ChurnTargetFdsGrowing')?.expr).toMatch(/churn_target_open_fds/);
    expect(byName.get('ChurnNoProgress')?.expr).toMatch(/churn_cycles_total/);
    // Per node (issue 15): only series with a node, compared by node.
    for (const alert of [
      'ChurnNodeLost',
      'ChurnNodeErrorRatioOutlier',
      'ChurnNodeLatencyOutlier',
    ]) {
      const expr = byName.get(alert)?.expr ?? '';
      expect(expr, alert).toMatch(/by \((le, )?node, scenario(, le)?\)/);
      for (const selector of expr.matchAll(/churn_[a-z_]+\{([^}]*)\}/g)) {
        expect(selector[1], alert).toContain('node!=""');
      }
    }
    for (const rule of byName.values()) {
      expect(rule.expr.trim(), rule.alert).toMatch(/(==|!=|>=|<=|>|<)\s*-?[0-9][0-9.eE+-]*$/);
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
    }
  });
});
