/**
 * Whether two reports measured the same thing, for compare and merge.
 *
 * Compared (a difference refuses, NOT_COMPARABLE naming the field): the scenario's name, its
 * workloads (name, weight, image, command, args, env, working dir, pod layout, containers per
 * pod, steps with their exec commands and think times, stop timeout, host network, logs) and
 * its load model (each phase's kind, concurrency or arrival rate, ramp, arrival process, whether
 * it is recorded; maxInflight when a phase is open loop).
 *
 * Ignored: phase durations, the iterations cap and drain timeout (a longer run of the same
 * load is the same experiment), the seed, thresholds, report settings and labels, the
 * description, and the target (driver, endpoint, handler, executor) and faults: those are
 * what a comparison of runtimes varies. A fault or environment difference is a warning.
 */
import { ChurnError } from '../common/errors.js';
import type { Scenario } from '../scenario/schema.js';
import { isCheckpoint } from './checkpoint.js';
import { runMarks } from './run-health.js';
import type { Report } from './schema.js';

/** The parts of a scenario that must match; see the module comment. */
export function comparableScenario(scenario: Scenario): Record<string, unknown> {
  const open = scenario.load.phases.some((p) => p.kind === 'open');
  return {
    name: scenario.name,
    workloads: scenario.workloads.map((w) => ({
      name: w.name,
      weight: w.weight,
      image: w.image,
      command: w.command,
      args: w.args,
      env: w.env,
      workingDir: w.workingDir,
      podPerCycle: w.podPerCycle,
      pods: w.pods,
      containersPerPod: w.containersPerPod,
      steps: w.steps,
      stopTimeoutMs: w.stopTimeoutMs,
      hostNetwork: w.hostNetwork,
      logs: w.logs,
    })),
    load: {
      phases: scenario.load.phases.map((p) => {
        switch (p.kind) {
          case 'closed':
            return { kind: p.kind, concurrency: p.concurrency, rampTo: p.rampTo, record: p.record };
          case 'open':
            return {
              kind: p.kind,
              arrivalRate: p.arrivalRate,
              rampTo: p.rampTo,
              arrivals: p.arrivals,
              record: p.record,
            };
          case 'pause':
            return { kind: p.kind };
        }
      }),
      ...(open ? { maxInflight: scenario.load.maxInflight } : {}),
    },
  };
}

/** The first path where `a` and `b` differ (`workloads[0].steps[2]`), or undefined. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (Object.is(a, b)) return undefined;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return JSON.stringify(a) === JSON.stringify(b) ? undefined : path;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return path;
    if (a.length !== b.length) return `${path}.length`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])];
  for (const key of keys) {
    const d = firstDifference(ra[key], rb[key], path === '' ? key : `${path}.${key}`);
    if (d !== undefined) return d;
  }
  return undefined;
}

/** The value at a path {@link firstDifference} returned. */
function valueAtPath(root: unknown, path: string): unknown {
  let node = root;
  for (const part of path.match(/[^.[\]]+/g) ?? []) {
    if (node === null || typeof node !== 'object') return undefined;
    node = /^\d+$/.test(part)
      ? (node as unknown[])[Number(part)]
      : (node as Record<string, unknown>)[part];
  }
  return node;
}

/**
 * Throws NOT_COMPARABLE when `other` ran a different scenario than `first` (see the module
 * comment), naming the field and both values. `verb` says what was attempted ("compare").
 */
export function assertComparable(
  first: { readonly report: Report; readonly source: string },
  other: { readonly report: Report; readonly source: string },
  verb: string,
): void {
  assertScenariosComparable(
    { scenario: first.report.scenario, source: first.source },
    { scenario: other.report.scenario, source: other.source },
    verb,
  );
}

/**
 * {@link assertComparable} for scenarios: throws NOT_COMPARABLE when `other` is a different
 * scenario than `first`, naming the field and both values (e.g. a baseline report against the
 * scenario a run is about to follow).
 */
export function assertScenariosComparable(
  first: { readonly scenario: Scenario; readonly source: string },
  other: { readonly scenario: Scenario; readonly source: string },
  verb: string,
): void {
  const a = comparableScenario(first.scenario);
  const b = comparableScenario(other.scenario);
  const path = firstDifference(a, b);
  if (path === undefined) return;
  const show = (v: unknown): string => (v === undefined ? 'absent' : jsonText(v).slice(0, 80));
  throw new ChurnError(
    'NOT_COMPARABLE',
    `cannot ${verb} runs of different scenarios: scenario.${path} is ${show(valueAtPath(a, path))} in ${first.source} but ${show(valueAtPath(b, path))} in ${other.source}` +
      ' (compared: name, workloads, load model; ignored: durations, iterations, seed, target, faults, thresholds, report settings)',
  );
}

/**
 * The first path (`load.phases[0].concurrency`) where two scenarios differ in what must match
 * (see the module comment); undefined when they are comparable.
 */
export function scenarioDifference(a: Scenario, b: Scenario): string | undefined {
  return firstDifference(comparableScenario(a), comparableScenario(b));
}

/**
 * Why `report` cannot be the baseline of a run of `scenario` (for `--baseline latest`), e.g.
 * `checkpoint` (of a run still running, or killed), `partial`, `different
 * load.phases[0].concurrency`, `harness-bound`; undefined when it can.
 * A marked run (harness-bound, overloaded) is skipped unless `allowMarked`.
 */
export function baselineSkipReason(
  report: Report,
  scenario: Scenario,
  allowMarked: boolean,
): string | undefined {
  if (isCheckpoint(report)) return 'checkpoint';
  if (report.run.partial) return 'partial';
  const path = scenarioDifference(scenario, report.scenario);
  if (path !== undefined) return `different ${path}`;
  const marks = runMarks(report);
  if (!allowMarked && marks.length > 0) return marks.join(', ');
  return undefined;
}

/** Environment facts whose difference makes a comparison suspect. */
const environmentFacts: readonly [string, (r: Report) => unknown][] = [
  ['kernel', (r) => r.environment.kernel],
  ['CPU model', (r) => r.environment.cpuModel],
  ['CPU count', (r) => r.environment.cpuCount],
  ['cgroup version', (r) => r.environment.cgroupVersion],
  ['runtime', (r) => r.environment.runtime.name],
  ['runtime version', (r) => r.environment.runtime.version],
  ['runtime handler', (r) => r.environment.runtime.handler],
  ['driver', (r) => r.environment.driver],
  ['Node.js', (r) => r.environment.node],
  ['churn version', (r) => r.environment.churnVersion],
];

/** Warnings for what differs between the runs' environments and faults (none when equal). */
export function environmentWarnings(
  reports: readonly { readonly report: Report; readonly source: string }[],
): string[] {
  const warnings: string[] = [];
  for (const [name, get] of environmentFacts) {
    const values = new Map<string, string[]>();
    for (const { report, source } of reports) {
      const key = JSON.stringify(get(report) ?? null);
      values.set(key, [...(values.get(key) ?? []), source]);
    }
    if (values.size > 1) {
      const parts = [...values.entries()].map(
        ([value, sources]) => `${shownFact(JSON.parse(value))} (${sources.join(', ')})`,
      );
      warnings.push(`environments differ: ${name} ${parts.join(' vs ')}`);
    }
  }
  const faultOps = new Set(reports.flatMap(({ report }) => Object.keys(report.scenario.faults)));
  const differing = [...faultOps].filter(
    (op) =>
      new Set(
        reports.map(({ report }) =>
          JSON.stringify((report.scenario.faults as Record<string, unknown>)[op] ?? null),
        ),
      ).size > 1,
  );
  if (differing.length > 0) {
    warnings.push(
      `injected faults differ (${differing.join(', ')}): the runs measured a runtime misbehaving differently on purpose`,
    );
  }
  return warnings;
}

/** An environment fact as a warning shows it: `unknown` for null, `default` for ''. */
function shownFact(value: unknown): string {
  if (value === null) return 'unknown';
  if (value === '') return 'default';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `value` as JSON, or its type when JSON has no text for it (a function, a symbol). */
function jsonText(value: unknown): string {
  const kind = typeof value;
  return kind === 'undefined' || kind === 'function' || kind === 'symbol'
    ? kind
    : JSON.stringify(value);
}
