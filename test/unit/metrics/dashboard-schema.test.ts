// dashboards/churn.json has the shape of a Grafana dashboard (no Grafana server runs here): the
// JSON model, unique ids, a layout that fits and does not overlap, a datasource everywhere and
// only defined variables (test/support/grafana-dashboard.ts). The check itself is shown to
// catch each kind of mistake on altered copies. Which metrics and labels the queries use is
// catalog-files.test.ts's business.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dashboardProblems, variableReferences } from '../../support/grafana-dashboard.js';

const text = readFileSync(new URL('../../../dashboards/churn.json', import.meta.url), 'utf8');

interface Json {
  [key: string]: unknown;
}
/** A fresh copy of the dashboard to spoil. */
const copy = (): Json & { panels: Json[]; templating: { list: Json[] } } =>
  JSON.parse(text) as Json & { panels: Json[]; templating: { list: Json[] } };
const panelTitled = (d: { panels: Json[] }, title: string): Json & { targets: Json[] } =>
  d.panels.find((p) => p['title'] === title) as Json & { targets: Json[] };

describe('dashboards/churn.json as a Grafana dashboard', () => {
  it('has no problem', () => {
    expect(dashboardProblems(JSON.parse(text))).toEqual([]);
  });

  it('defines and uses the node variable on every query', () => {
    const d = copy();
    expect(d.templating.list.map((v) => v['name'])).toContain('node');
    const exprs = d.panels.flatMap((p) =>
      ((p['targets'] as Json[] | undefined) ?? []).map((t) => String(t['expr'])),
    );
    for (const expr of exprs) expect(variableReferences(expr)).toContain('node');
  });
});

describe('dashboardProblems', () => {
  it('finds references of every form', () => {
    expect(
      variableReferences('a{x=~"$node", y="${instance:regex}"}[$__rate_interval] [[op]]'),
    ).toEqual(['node', 'instance', '__rate_interval', 'op']);
  });

  it.each<[string, (d: ReturnType<typeof copy>) => void, RegExp]>([
    [
      'a misspelt key',
      (d) => {
        const p = panelTitled(d, 'Cycle rate');
        p['datasoruce'] = p['datasource'];
      },
      /^panels\.1: Unrecognized key: "datasoruce"$/,
    ],
    [
      'an unknown panel type',
      (d) => {
        panelTitled(d, 'Cycle rate')['type'] = 'graph-ng';
      },
      /^panels\.1\.type: /,
    ],
    [
      'a duplicate id',
      (d) => {
        panelTitled(d, 'Operation rate')['id'] = 2;
      },
      /^panel 2 "Operation rate": id 2 is also panel 2 "Cycle rate"'s$/,
    ],
    [
      'overlapping panels',
      (d) => {
        panelTitled(d, 'Operation rate')['gridPos'] = { h: 8, w: 8, x: 4, y: 1 };
      },
      /^panel 2 "Cycle rate" and panel 3 "Operation rate" overlap$/,
    ],
    [
      'a panel wider than the grid',
      (d) => {
        panelTitled(d, 'Operation rate')['gridPos'] = { h: 8, w: 20, x: 8, y: 1 };
      },
      /^panel 3 "Operation rate": gridPos x \+ w = 28 > 24$/,
    ],
    [
      'a panel without a datasource',
      (d) => {
        delete panelTitled(d, 'Cycle rate')['datasource'];
      },
      /^panel 2 "Cycle rate": no datasource$/,
    ],
    [
      'a target without a datasource',
      (d) => {
        delete panelTitled(d, 'Cycle rate').targets[0]!['datasource'];
      },
      /^panel 2 "Cycle rate" A: no datasource$/,
    ],
    [
      'an undefined variable in a query',
      (d) => {
        const t = panelTitled(d, 'Cycle rate').targets[0]!;
        t['expr'] = String(t['expr']).replace('$node', '$nodes');
      },
      /^panel 2 "Cycle rate": uses \$nodes, which no variable defines$/,
    ],
    [
      'a variable whose query uses one defined after it',
      (d) => {
        const list = d.templating.list;
        const node = list.findIndex((v) => v['name'] === 'node');
        const instance = list.findIndex((v) => v['name'] === 'instance');
        [list[node], list[instance]] = [list[instance]!, list[node]!];
      },
      /^variable instance: uses \$node, not defined before it$/,
    ],
    [
      'a refId twice',
      (d) => {
        const p = panelTitled(d, 'Scheduler lag (open loop)');
        p.targets[1]!['refId'] = 'A';
      },
      /: refId A twice$/,
    ],
  ])('catches %s', (_name, spoil, problem) => {
    const d = copy();
    spoil(d);
    const problems = dashboardProblems(d);
    expect(
      problems.some((p) => problem.test(p)),
      problems.join('\n'),
    ).toBe(true);
  });
});
