/**
 * A real Prometheus (Debian's, on loopback, scrape interval 1 s) scrapes live `churn run`s
 * (the built CLI, --metrics-port 0) driving `churn serve` with known faults:
 * - every PromQL expression of dashboards/churn.json and dashboards/alerts.yaml returns data
 *   (the targets labelled with a `node`, as the PodMonitor of deploy/kubernetes labels them;
 *   the per-node outlier alerts, which compare a node with the others, on two nodes);
 * - the scraped values agree with the run's report;
 * - two instances aggregate in histogram_quantile(… sum by (le) …) where the merged HDR
 *   histograms of their reports say.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { durationBucketsSeconds } from '../../src/metrics/catalog.js';
import { decodeHistogram, mergeEncoded, valueAtPercentileUs } from '../../src/metrics/hdr.js';
import type { Report } from '../../src/report/schema.js';
import { startChurn, type ChurnProcess } from '../support/churn-process.js';
import { tempDir } from '../support/core-fixtures.js';
import {
  prometheusSkipReason,
  startPrometheus,
  waitFor,
  type TestPrometheus,
} from '../support/prometheus.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const mainJs = join(root, 'dist/cli/main.js');
const skip = prometheusSkipReason();

/** `churn serve` with `faults` (YAML), stopped with SIGTERM when the test finishes. */
async function serveChurn(dir: string, name: string, faults: string): Promise<string> {
  const faultsFile = join(dir, `${name}-faults.yaml`);
  await writeFile(faultsFile, faults);
  const socket = join(dir, `${name}.sock`);
  const child = spawn(
    process.execPath,
    [
      mainJs,
      'serve',
      '--socket',
      socket,
      '--state-dir',
      join(dir, `${name}-state`),
      '--faults',
      faultsFile,
      '--seed',
      '1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  onTestFinished(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  });
  await waitFor(
    `churn serve ${name} to listen`,
    () => {
      if (child.exitCode !== null) throw new Error(`churn serve exited: ${output}`);
      return Promise.resolve(output.includes('listening on') ? true : undefined);
    },
    20_000,
    50,
  );
  return `unix://${socket}`;
}

interface LiveRun {
  readonly process: ChurnProcess;
  /** host:port of its /metrics, as Prometheus labels it `instance`. */
  readonly instance: string;
}

/** Starts `churn run` with /metrics on a free port (lingering) and waits for the address. */
async function startRun(dir: string, args: readonly string[]): Promise<LiveRun> {
  const process = startChurn(
    ['run', ...args, '--metrics-port', '0', '--metrics-linger', '120s', '--quiet'],
    dir,
  );
  const instance = await waitFor(
    'churn run to print its metrics address',
    () => {
      const match = /churn: metrics at http:\/\/([^/\s]+)\/metrics/.exec(process.stderr());
      if (match === null && process.child.exitCode !== null) {
        throw new Error(`churn run exited: ${process.stderr()}`);
      }
      return Promise.resolve(match?.[1]);
    },
    20_000,
    50,
  );
  return { process, instance };
}

/** Waits for the run's report path (stdout, --quiet) and reads the report. */
async function reportOf(run: LiveRun): Promise<Report> {
  const path = await waitFor(
    'the run to end and print its report path',
    () => Promise.resolve(run.process.stdout().trim().split('\n')[0] || undefined),
    90_000,
  );
  return JSON.parse(await readFile(path, 'utf8')) as Report;
}

/** Waits until Prometheus has scraped the ended run (churn_run_active 0): final values are in. */
async function scrapedFinal(prom: TestPrometheus, run: LiveRun): Promise<void> {
  await waitFor(
    `Prometheus to scrape the final values of ${run.instance}`,
    async () => {
      const v = await prom.query(`churn_run_active{instance="${run.instance}"} == 0`);
      return v.length > 0 ? true : undefined;
    },
    30_000,
  );
}

/** Ends the lingering /metrics with Ctrl-C; the run's exit code is its own. */
async function stopRun(run: LiveRun): Promise<number> {
  run.process.child.kill('SIGINT');
  return run.process.exited;
}

function scenarioText(name: string, phases: string): string {
  return [
    `name: ${name}`,
    'seed: 3',
    'workload:',
    '  image: host',
    `  command: [sleep, "3600"]`,
    'load:',
    '  maxInflight: 1',
    '  phases:',
    phases,
    '',
  ].join('\n');
}

interface DashboardPanel {
  readonly title?: string;
  readonly targets?: readonly { readonly expr?: string }[];
  readonly panels?: readonly DashboardPanel[];
}

/** Every PromQL expression of the dashboard, with its panel's title. */
function dashboardExpressions(dashboard: { panels: DashboardPanel[] }): [string, string][] {
  const out: [string, string][] = [];
  const walk = (panels: readonly DashboardPanel[]): void => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr !== undefined) out.push([panel.title ?? '?', target.expr]);
      }
      walk(panel.panels ?? []);
    }
  };
  walk(dashboard.panels);
  return out;
}

/** Grafana's variables as a dashboard user would have them for this run. */
function substitute(expr: string, values: Readonly<Record<string, string>>): string {
  const out = expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for ${whole} in ${expr}`);
    return value;
  });
  return out;
}

/**
 * An alert rule's expression without its final comparison with a number (`… > 0.001`): what
 * must return data for a live run (the comparison then decides whether it fires).
 */
function withoutThreshold(expr: string): string | undefined {
  const match = /^([\s\S]*?)\s*(?:==|!=|>=|<=|>|<)\s*(?:bool\s+)?-?[0-9][0-9.eE+-]*\s*$/.exec(
    expr.trim(),
  );
  return match?.[1];
}

/** The alerts that compare a node with the other nodes: they need two nodes to have a value. */
const comparesNodes = new Set(['ChurnNodeErrorRatioOutlier', 'ChurnNodeLatencyOutlier']);

/** The rules of dashboards/alerts.yaml. */
async function alertRules(): Promise<{ alert: string; expr: string }[]> {
  const rules = parseYaml(await readFile(join(root, 'dashboards/alerts.yaml'), 'utf8')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  return rules.groups.flatMap((g) => g.rules);
}

/** True when some series of the matrix has a finite value. */
function hasData(series: readonly { values: readonly (readonly [number, number])[] }[]): boolean {
  return series.some((s) => s.values.some(([, v]) => Number.isFinite(v)));
}

function epochSec(iso: string): number {
  return Date.parse(iso) / 1000;
}

describe.skipIf(skip !== undefined)('churn metrics scraped by a real Prometheus', () => {
  it('every dashboard and alert expression returns data, and the values agree with the report', async () => {
    const dir = await tempDir('churn-prom-e2e-');
    const prom = await startPrometheus();
    const endpoint = await serveChurn(
      dir,
      'core',
      'start: { latency: 15ms, errorRate: 0.08, code: UNAVAILABLE }\ncreate: { latency: 2ms }\n',
    );
    const scenario = join(dir, 'scenario.yaml');
    await writeFile(
      scenario,
      scenarioText(
        'metrics-e2e',
        // A warm-up, closed loop, then open loop faster than maxInflight 1 allows: drops and
        // lag.
        '    - { duration: 2s, concurrency: 2, record: false }\n' +
          '    - { duration: 4s, concurrency: 2 }\n    - { duration: 4s, arrivalRate: 40 }',
      ),
    );
    const run = await startRun(dir, [
      scenario,
      '--driver',
      'cri',
      '--endpoint',
      endpoint,
      '--report-dir',
      join(dir, 'reports'),
      // Its drops are on purpose (the dashboard's drop panels need data).
      '--allow',
      'overloaded',
    ]);
    // Labelled as deploy/kubernetes/components/podmonitor labels a node's churn.
    await prom.setTargets([{ target: run.instance, labels: { node: 'node-a' } }]);
    const report = await reportOf(run);
    await scrapedFinal(prom, run);
    const instance = `instance="${run.instance}"`;

    // The run did what the checks below need: errors, drops, open-loop lag.
    expect(report.operations.start?.errors ?? 0).toBeGreaterThan(0);
    expect(report.cycles.dropped).toBeGreaterThan(0);
    expect(report.cycles.cut).toBe(0);
    expect(report.resources?.target?.name).toBe('churn-core');

    // Values agree with the report (count = successes; errors by code in outcome="error").
    const one = async (expr: string): Promise<number> => {
      const v = await prom.query(expr);
      expect(v, expr).toHaveLength(1);
      return v[0]!.value;
    };
    // Cycles and drops: every phase, as the report's cycles block (the warm-up's are more).
    const cycle = report.operations.cycle!;
    expect(await one(`sum(churn_cycles_total{${instance}})`)).toBe(
      report.cycles.succeeded + report.cycles.failed,
    );
    expect(await one(`sum(churn_cycles_total{${instance}, outcome="success"})`)).toBe(
      report.cycles.succeeded,
    );
    expect(report.cycles.succeeded).toBeGreaterThan(cycle.count);
    expect(await one(`sum(churn_cycles_dropped_total{${instance}})`)).toBe(report.cycles.dropped);
    const counts = await prom.query(
      `sum by (op) (churn_operation_duration_seconds_count{${instance}})`,
    );
    const byOutcome = await prom.query(
      `sum by (op, outcome, code) (churn_operations_total{${instance}})`,
    );
    const ops = Object.entries(report.operations);
    expect(counts).toHaveLength(ops.length);
    for (const [op, figures] of ops) {
      expect(counts.find((c) => c.metric['op'] === op)?.value, `${op} _count`).toBe(figures.count);
      const success = byOutcome.find(
        (c) => c.metric['op'] === op && c.metric['outcome'] === 'success',
      );
      expect(success?.value, `${op} successes`).toBe(figures.count);
      expect(success?.metric['code']).toBe('OK');
      const errors: Record<string, number> = {};
      for (const c of byOutcome) {
        if (c.metric['op'] === op && c.metric['outcome'] === 'error')
          errors[c.metric['code']!] = c.value;
      }
      expect(errors, `${op} errors by code`).toEqual(figures.errorsByCode);
    }

    // Every dashboard expression has data over the run, variables as Grafana would set them.
    const dashboard = JSON.parse(await readFile(join(root, 'dashboards/churn.json'), 'utf8')) as {
      panels: DashboardPanel[];
      templating: { list: { name: string; type: string; definition?: string }[] };
    };
    const variables = {
      scenario: 'metrics-e2e',
      driver: 'cri',
      node: '.*',
      instance: '.*',
      op: 'cycle',
      __rate_interval: '5s',
      __interval: '1s',
      __range: '30s',
    };
    const startSec = Math.floor(epochSec(report.run.start));
    const endSec = Math.ceil(epochSec(report.run.end)) + 2;
    const empty: string[] = [];
    const expressions = dashboardExpressions(dashboard);
    expect(expressions.length).toBeGreaterThan(20);
    for (const [title, raw] of expressions) {
      const expr = substitute(raw, variables);
      if (!hasData(await prom.queryRange(expr, startSec, endSec, 1)))
        empty.push(`${title}: ${expr}`);
    }
    // The template variables' own queries (label_values(selector, label)) find the run.
    for (const variable of dashboard.templating.list) {
      if (variable.type !== 'query') continue;
      const match = /^label_values\((.*),\s*(\w+)\)$/.exec(variable.definition ?? '');
      expect(match, variable.name).not.toBeNull();
      const selector = substitute(match![1]!, variables);
      const res = await fetch(
        `${prom.url}/api/v1/label/${match![2]!}/values?${new URLSearchParams({ 'match[]': selector, start: String(startSec), end: String(endSec) }).toString()}`,
      );
      const values = ((await res.json()) as { data: string[] }).data;
      if (values.length === 0)
        empty.push(`variable ${variable.name}: ${variable.definition ?? ''}`);
    }

    // Every alert expression, without its threshold, has data too (those comparing a node
    // with the others: in the two-node test below).
    const alerts = await alertRules();
    expect(alerts.length).toBeGreaterThanOrEqual(4);
    for (const rule of alerts.filter((r) => !comparesNodes.has(r.alert))) {
      const expr = withoutThreshold(rule.expr);
      expect(expr, `${rule.alert}: expression ends with a comparison`).toBeDefined();
      if (!hasData(await prom.queryRange(expr!, startSec, endSec, 1)))
        empty.push(`${rule.alert}: ${expr!}`);
    }
    expect(empty, 'expressions without data').toEqual([]);

    // Ctrl-C ends the linger; the exit code is the run's (it passed its thresholds: none).
    expect(await stopRun(run)).toBe(0);
  });

  it('two instances aggregate in histogram_quantile where the merged distribution says', async () => {
    const dir = await tempDir('churn-prom-agg-');
    const prom = await startPrometheus();
    const fast = await serveChurn(dir, 'fast', 'start: { latency: 8ms }\n');
    const slow = await serveChurn(dir, 'slow', 'start: { latency: 45ms }\n');
    const scenario = join(dir, 'scenario.yaml');
    await writeFile(
      scenario,
      scenarioText('metrics-agg', '    - { duration: 5s, concurrency: 2 }'),
    );
    // The aggregation is judged here, not churn's own loop: a loaded machine may mark a run
    // harness-bound, which would make its exit code 1.
    const common = [
      scenario,
      '--driver',
      'cri',
      '--report-dir',
      join(dir, 'reports'),
      '--allow',
      'harness-bound',
    ];
    const runs = await Promise.all([
      startRun(dir, [...common, '--endpoint', fast]),
      startRun(dir, [...common, '--endpoint', slow]),
    ]);
    await prom.setTargets(
      runs.map((r, i) => ({ target: r.instance, labels: { node: i === 0 ? 'fast' : 'slow' } })),
    );
    const reports = await Promise.all(runs.map(reportOf));
    await Promise.all(runs.map((r) => scrapedFinal(prom, r)));

    const selector = 'scenario="metrics-agg", op="start"';
    const instances = await prom.query(
      `count(count by (instance) (churn_operation_duration_seconds_count{${selector}}))`,
    );
    expect(instances[0]?.value).toBe(2);
    const total = await prom.query(`sum(churn_operation_duration_seconds_count{${selector}})`);
    expect(total[0]?.value).toBe(
      reports[0]!.operations.start!.count + reports[1]!.operations.start!.count,
    );

    const merged = decodeHistogram(
      mergeEncoded(reports.map((r) => r.operations.start!.histogram!)),
    );
    onTestFinished(() => merged.destroy());
    const bounds = [0, ...durationBucketsSeconds, Infinity];
    /** [lower, upper] of the bucket holding `seconds` (Prometheus: le is inclusive). */
    const bucketOf = (seconds: number): [number, number] => {
      const i = bounds.findIndex((b, k) => k > 0 && seconds <= b);
      return [bounds[i - 1]!, bounds[i]!];
    };
    for (const q of [0.5, 0.9, 0.99]) {
      const [aggregated] = await prom.query(
        `histogram_quantile(${q}, sum by (le) (churn_operation_duration_seconds_bucket{${selector}}))`,
      );
      const exactSec = valueAtPercentileUs(merged, q * 100) / 1e6;
      // HDR values are exact to 1 part in 1000: either side of a bucket bound is allowed.
      const allowed = [bucketOf(exactSec * 0.999), bucketOf(exactSec * 1.001)];
      const value = aggregated!.value;
      expect(
        allowed.some(([lo, hi]) => value >= lo && value <= hi),
        `q=${q}: histogram_quantile ${value}s, merged reports ${exactSec}s (bucket ${JSON.stringify(allowed)})`,
      ).toBe(true);
    }
    // The aggregate is a mixture of both instances: each of its quantiles lies between theirs
    // (whichever is faster on a loaded machine), and the slow one holds well over 10% of the
    // starts, so it weighs in.
    const counts = reports.map((r) => r.operations.start!.count);
    expect(counts[1]! / (counts[0]! + counts[1]!)).toBeGreaterThan(0.1);
    const alone = async (run: (typeof runs)[number], q: number): Promise<number> =>
      (
        await prom.query(
          `histogram_quantile(${q}, sum by (le) (churn_operation_duration_seconds_bucket{${selector}, instance="${run.instance}"}))`,
        )
      )[0]!.value;
    const both = async (q: number): Promise<number> =>
      (
        await prom.query(
          `histogram_quantile(${q}, sum by (le) (churn_operation_duration_seconds_bucket{${selector}}))`,
        )
      )[0]!.value;
    for (const q of [0.5, 0.9]) {
      const own = [await alone(runs[0], q), await alone(runs[1], q)];
      const mixed = await both(q);
      expect(mixed, `q=${q}: both ${mixed}s, alone ${own.join(' and ')}s`).toBeGreaterThanOrEqual(
        Math.min(...own),
      );
      expect(mixed, `q=${q}: both ${mixed}s, alone ${own.join(' and ')}s`).toBeLessThanOrEqual(
        Math.max(...own),
      );
    }

    // The alerts that compare a node with the other nodes have a value for each node, the one
    // each node's figures give when queried apart (the other nodes' are the scenario's minus
    // the node's): no errors (none injected), and p99(cycle) over the other node's. Latencies
    // on a loaded machine order either way, so no order is asserted.
    const rules = (await alertRules()).filter((r) => comparesNodes.has(r.alert));
    expect(rules.map((r) => r.alert).sort()).toEqual([...comparesNodes].sort());
    const atSec = Math.floor(Date.now() / 1000);
    const p99Of = async (node: string): Promise<number> =>
      (
        await prom.query(
          `histogram_quantile(0.99, sum by (le) (rate(churn_operation_duration_seconds_bucket{node="${node}", op="cycle"}[10m])))`,
          atSec,
        )
      )[0]!.value;
    const p99 = { fast: await p99Of('fast'), slow: await p99Of('slow') };
    for (const rule of rules) {
      const values = await prom.query(withoutThreshold(rule.expr)!, atSec);
      const byNode: Record<string, number> = Object.fromEntries(
        values.map((v) => [v.metric['node'] ?? '', v.value]),
      );
      expect(Object.keys(byNode).sort(), rule.alert).toEqual(['fast', 'slow']);
      if (rule.alert === 'ChurnNodeErrorRatioOutlier') {
        expect(byNode).toEqual({ fast: 0, slow: 0 });
      } else {
        expect(byNode['slow']).toBeCloseTo(p99.slow / p99.fast, 9);
        expect(byNode['fast']).toBeCloseTo(p99.fast / p99.slow, 9);
      }
    }

    expect(await Promise.all(runs.map(stopRun))).toEqual([0, 0]);
  });
});
