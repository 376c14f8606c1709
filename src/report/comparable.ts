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
 * what a comparison of runtimes varies. A fault or environment difference is a warning. The
 * runtime a run measured (driver, runtime name, handler) is checked apart, by
 * runtime-identity.ts: compare refuses a mix unless a cross-runtime comparison is asked for;
 * in one, a workload that names no image runs each driver's default, and that counts as equal.
 */
import { ChurnError } from '../common/errors.js';
import { defaultImageFor } from '../common/default-images.js';
import type { Scenario } from '../scenario/schema.js';
import { isCheckpoint } from './checkpoint.js';
import { runMarks } from './run-health.js';
import {
  runtimeIdentity,
  runtimeLabel,
  sameRuntime,
  type RuntimeIdentity,
} from './runtime-identity.js';
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

/** Options of {@link assertComparable}. */
export interface ComparableOptions {
  /**
   * A cross-runtime comparison: a workload that names no image runs each driver's default (the
   * host's on builtin, busybox over CRI or containerd's API), and that counts as the same image.
   */
  readonly acrossRuntimes?: boolean;
}

/**
 * Throws NOT_COMPARABLE when `other` ran a different scenario than `first` (see the module
 * comment), naming the field and both values. `verb` says what was attempted ("compare").
 */
export function assertComparable(
  first: { readonly report: Report; readonly source: string },
  other: { readonly report: Report; readonly source: string },
  verb: string,
  options: ComparableOptions = {},
): void {
  assertScenariosComparable(
    { scenario: first.report.scenario, source: first.source },
    { scenario: other.report.scenario, source: other.source },
    verb,
    options,
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
  options: ComparableOptions = {},
): void {
  const [a, b] = comparablePair(first.scenario, other.scenario, options);
  const path = firstDifference(a, b);
  if (path === undefined) return;
  const show = (v: unknown): string => (v === undefined ? 'absent' : jsonText(v).slice(0, 80));
  throw new ChurnError(
    'NOT_COMPARABLE',
    `cannot ${verb} runs of different scenarios: scenario.${path} is ${show(valueAtPath(a, path))} in ${first.source} but ${show(valueAtPath(b, path))} in ${other.source}` +
      ' (compared: name, workloads, load model; ignored: durations, iterations, seed, target, faults, thresholds, report settings)',
  );
}

/** What must match of `a` and of `b` (see {@link comparableScenario}, {@link ComparableOptions}). */
function comparablePair(
  a: Scenario,
  b: Scenario,
  options: ComparableOptions,
): [Record<string, unknown>, Record<string, unknown>] {
  return [
    comparableScenario(a),
    comparableScenario(options.acrossRuntimes === true ? withDefaultImagesOf(b, a) : b),
  ];
}

/**
 * `scenario` with each workload that runs its driver's default image given the image of the
 * same workload of `like` instead, when that one runs its own driver's default too.
 */
function withDefaultImagesOf(scenario: Scenario, like: Scenario): Scenario {
  const own = defaultImageFor(scenario.target.driver);
  const theirs = defaultImageFor(like.target.driver);
  return {
    ...scenario,
    workloads: scenario.workloads.map((w, i) => {
      const image = like.workloads[i]?.image;
      return w.image === own && image === theirs ? { ...w, image } : w;
    }),
  };
}

/**
 * For a cross-runtime comparison: `workloads run each driver's default image: host (builtin)
 * vs docker.io/library/busybox:latest (cri)` when the sides' drivers have different defaults
 * and a workload runs them; undefined otherwise.
 */
export function defaultImagesNote(base: Scenario, candidate: Scenario): string | undefined {
  const a = defaultImageFor(base.target.driver);
  const b = defaultImageFor(candidate.target.driver);
  if (a === b) return undefined;
  const names = base.workloads
    .filter((w, i) => w.image === a && candidate.workloads[i]?.image === b)
    .map((w) => w.name);
  if (names.length === 0) return undefined;
  return `workload${names.length === 1 ? '' : 's'} ${names.join(', ')} ran each driver's default image: ${a} (${base.target.driver}) vs ${b} (${candidate.target.driver})`;
}

/**
 * The first path (`load.phases[0].concurrency`) where scenario `b` differs from `a` in what
 * must match (see the module comment and {@link ComparableOptions}); undefined when they are
 * comparable.
 */
export function scenarioDifference(
  a: Scenario,
  b: Scenario,
  options: ComparableOptions = {},
): string | undefined {
  return firstDifference(...comparablePair(a, b, options));
}

/** Options of {@link baselineSkipReason}. */
export interface BaselineSkipOptions {
  /**
   * Accept runs marked harness-bound or overloaded. Default false: only the marks the
   * scenario's `integrity.allow` names are accepted.
   */
  readonly allowMarked?: boolean;
  /** Accept only runs of this runtime (driver, runtime name, handler). Default any. */
  readonly runtime?: RuntimeIdentity;
  /**
   * Accept runs of any runtime, a workload running each driver's default image counting as
   * the same image (see {@link ComparableOptions}). Default false.
   */
  readonly acrossRuntimes?: boolean;
}

/**
 * Why `report` cannot be the baseline of a run of `scenario` (for `--baseline latest`), e.g.
 * `checkpoint` (of a run still running, or killed), `partial`, `different
 * load.phases[0].concurrency`, `other runtime cri-o (driver cri)`, `harness-bound`; undefined
 * when it can. See {@link BaselineSkipOptions}.
 */
export function baselineSkipReason(
  report: Report,
  scenario: Scenario,
  options: BaselineSkipOptions = {},
): string | undefined {
  if (isCheckpoint(report)) return 'checkpoint';
  if (report.run.partial) return 'partial';
  const across = options.acrossRuntimes === true;
  const path = scenarioDifference(scenario, report.scenario, { acrossRuntimes: across });
  if (path !== undefined) return `different ${path}`;
  const identity = runtimeIdentity(report);
  if (!across && options.runtime !== undefined && !sameRuntime(options.runtime, identity)) {
    return `other runtime ${runtimeLabel(identity)}`;
  }
  // A mark the scenario allows (integrity.allow) does not disqualify its runs as baselines
  // either: a run that exits 0 despite it is a run of the scenario as its owner defined it.
  const marks = runMarks(report).filter((m) => !(scenario.integrity.allow as string[]).includes(m));
  if (options.allowMarked !== true && marks.length > 0) return marks.join(', ');
  return undefined;
}

/**
 * Environment facts whose difference makes a comparison suspect; `runtime`: a fact of the
 * runtime under test, which a cross-runtime comparison varies on purpose.
 */
const environmentFacts: readonly [string, (r: Report) => unknown, 'host' | 'runtime'][] = [
  ['kernel', (r) => r.environment.kernel, 'host'],
  ['CPU model', (r) => r.environment.cpuModel, 'host'],
  ['CPU count', (r) => r.environment.cpuCount, 'host'],
  ['cgroup version', (r) => r.environment.cgroupVersion, 'host'],
  ['runtime', (r) => r.environment.runtime.name, 'runtime'],
  ['runtime version', (r) => r.environment.runtime.version, 'runtime'],
  ['runtime handler', (r) => r.environment.runtime.handler, 'runtime'],
  ['driver', (r) => r.environment.driver, 'runtime'],
  ['Node.js', (r) => r.environment.node, 'host'],
  ['churn version', (r) => r.environment.churnVersion, 'host'],
];

/**
 * Warnings for what differs between the runs' environments and faults (none when equal).
 * `facts`: `all`; `host` leaves out the runtime's facts (name, version, handler, driver), for a
 * cross-runtime comparison whose sides differ there on purpose; `runtime` checks only those
 * (among the runs of one side of such a comparison), and not the faults.
 */
export function environmentWarnings(
  reports: readonly { readonly report: Report; readonly source: string }[],
  facts: 'all' | 'host' | 'runtime' = 'all',
): string[] {
  const warnings: string[] = [];
  for (const [name, get, kind] of environmentFacts) {
    if (facts !== 'all' && kind !== facts) continue;
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
  if (facts === 'runtime') return warnings;
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
