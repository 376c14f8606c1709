/**
 * `churn run` flags that override the scenario file. They are applied to the file's raw data
 * before validation, so an overridden value is validated like one written in the file, and a
 * problem with it names the flag (`--concurrency`) instead of a line.
 *
 * What each flag does to the file:
 *   --driver, --endpoint, --runtime-handler, --executor, --task-user   target.<key>
 *   --image          every workload's image
 *   --duration D     the run's total length: one phase gets D; several phases are scaled in
 *                    proportion so they add up to D (pauses included), keeping the shape
 *   --concurrency N  every phase that is not a pause becomes closed loop with N workers
 *                    (flat: its rampTo, arrivalRate and arrivals are dropped)
 *   --rate R         every phase that is not a pause becomes open loop at R cycles/s
 *                    (flat: its rampTo, concurrency and iterationsPerWorker are dropped)
 *   --iterations N   load.iterations
 *   --seed N         seed
 *   --report-dir D   report.dir
 *   --label k=v      report.labels.k (repeatable)
 *   --checkpoint-interval D   report.checkpointInterval
 *   --max-harness-lag D   integrity.maxHarnessLagP99
 *   --max-dropped R       integrity.maxDroppedRatio
 *   --max-outage D        integrity.maxOutage
 *   --allow MARK     integrity.allow (repeatable; replaces the file's list)
 *   --leak-check-interval D   leaks.checkInterval
 */
import { defaultPhasesInput } from './schema.js';
import {
  explainBadDuration,
  formatDurationMs,
  maxDurationMs,
  maxDurationText,
  parseDurationMs,
} from './units.js';
import type { ValuePath } from './yaml-source.js';

/** The overriding flags as `churn run` parsed them; each is optional. */
export interface ScenarioOverrides {
  readonly driver?: string;
  readonly endpoint?: string;
  readonly runtimeHandler?: string;
  readonly executor?: string;
  readonly taskUser?: string;
  readonly image?: string;
  /** A duration such as `30s`: the run's total length. */
  readonly duration?: string;
  readonly concurrency?: number;
  /** Open-loop arrival rate in cycles per second. */
  readonly rate?: number;
  readonly iterations?: number;
  readonly seed?: number;
  readonly reportDir?: string;
  /** `key=value` pairs for report.labels. */
  readonly labels?: readonly string[];
  /** A duration such as `5m`, `auto` or `off`: report.checkpointInterval. */
  readonly checkpointInterval?: string;
  /** A duration such as `250ms`: integrity.maxHarnessLagP99. */
  readonly maxHarnessLag?: string;
  /** A ratio such as `5%`: integrity.maxDroppedRatio. */
  readonly maxDropped?: string;
  /** A duration such as `2m`: integrity.maxOutage. */
  readonly maxOutage?: string;
  /** Run marks that do not fail the run: integrity.allow. */
  readonly allow?: readonly string[];
  /** A duration such as `10m`: leaks.checkInterval. */
  readonly leakCheckInterval?: string;
}

/** One overriding flag: its spelling, what --help says, and how yargs should parse it. */
export interface OverrideFlag {
  readonly flag: string;
  readonly describe: string;
  readonly type: 'string' | 'number';
  /** Repeatable (`--label a=b --label c=d`). */
  readonly array: boolean;
}

const flag = (
  name: string,
  type: 'string' | 'number',
  describe: string,
  array = false,
): OverrideFlag => ({ flag: `--${name}`, describe, type, array });

/**
 * Every overriding flag, for `churn run` to declare (e.g. `yargs.option(f.flag.slice(2), f)`)
 * and read back with {@link overridesFromArgs}.
 */
export const overrideFlags: Readonly<Record<keyof ScenarioOverrides, OverrideFlag>> = {
  driver: flag('driver', 'string', 'runtime driver: builtin, cri or containerd'),
  endpoint: flag(
    'endpoint',
    'string',
    'CRI endpoint, e.g. unix:///run/containerd/containerd.sock (implies --driver cri)',
  ),
  runtimeHandler: flag('runtime-handler', 'string', 'CRI runtime handler, e.g. runc'),
  executor: flag('executor', 'string', 'executor of the builtin core: process or runc'),
  taskUser: flag(
    'task-user',
    'string',
    "who the builtin core's process tasks run as when they name no user: UID[:GID] or NAME[:GROUP]; default nobody (65534:65534) as root, 0 for root",
  ),
  image: flag('image', 'string', "image of every workload's containers"),
  duration: flag(
    'duration',
    'string',
    'total length of the run; several phases are scaled in proportion',
  ),
  concurrency: flag('concurrency', 'number', 'make every phase closed loop with this many workers'),
  rate: flag('rate', 'number', 'make every phase open loop at this many cycles/s'),
  iterations: flag('iterations', 'number', 'cap on the cycles started in the run'),
  seed: flag('seed', 'number', 'seed for arrivals, workload mix and faults'),
  reportDir: flag('report-dir', 'string', 'directory of the report store'),
  labels: flag('label', 'string', 'report label key=value (repeatable)', true),
  checkpointInterval: flag(
    'checkpoint-interval',
    'string',
    'write the report so far (marked a checkpoint) every this long, where the final report goes (default auto: 5m for runs planned longer than 5m; 0 or off: never)',
  ),
  maxHarnessLag: flag(
    'max-harness-lag',
    'string',
    "bound on churn's event-loop lag p99 (default 100ms); above it the run is harness-bound",
  ),
  maxDropped: flag(
    'max-dropped',
    'string',
    'bound on the open-loop arrivals dropped (default 1%); above it the run is overloaded',
  ),
  maxOutage: flag(
    'max-outage',
    'string',
    'longest the runtime may stay unreachable (default 60s; 0: no limit); beyond it the run stops as broken (exit 3)',
  ),
  allow: flag(
    'allow',
    'string',
    'a run mark that does not fail the run: harness-bound or overloaded (repeatable)',
    true,
  ),
  leakCheckInterval: flag(
    'leak-check-interval',
    'string',
    'also audit leaks this often during the run, e.g. 10m (default 0: only at the end)',
  ),
};

/**
 * Picks the overriding flags out of parsed command-line arguments (yargs camel-cases
 * `--runtime-handler` and `--report-dir`; `--label` may be given once or repeated). Absent
 * flags stay absent; numbers given as text become numbers (NaN if not numeric, which
 * validation then reports against the flag).
 */
export function overridesFromArgs(args: Readonly<Record<string, unknown>>): ScenarioOverrides {
  const text = (value: unknown): string | undefined =>
    value === undefined ? undefined : typeof value === 'string' ? value : JSON.stringify(value);
  const number = (value: unknown): number | undefined =>
    value === undefined ? undefined : Number(value);
  const label = args['label'] ?? args['labels'];
  const list = (value: unknown): string[] | undefined =>
    value === undefined
      ? undefined
      : (Array.isArray(value) ? (value as unknown[]) : [value]).map((v) => text(v) ?? '');
  const all: ScenarioOverrides = {
    driver: text(args['driver']),
    endpoint: text(args['endpoint']),
    runtimeHandler: text(args['runtimeHandler']),
    executor: text(args['executor']),
    taskUser: text(args['taskUser']),
    image: text(args['image']),
    duration: text(args['duration']),
    concurrency: number(args['concurrency']),
    rate: number(args['rate']),
    iterations: number(args['iterations']),
    seed: number(args['seed']),
    reportDir: text(args['reportDir']),
    labels: list(label),
    checkpointInterval: text(args['checkpointInterval']),
    maxHarnessLag: text(args['maxHarnessLag']),
    maxDropped: text(args['maxDropped']),
    maxOutage: text(args['maxOutage']),
    allow: list(args['allow']),
    leakCheckInterval: text(args['leakCheckInterval']),
  };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

/** Where an override wrote into the raw scenario. */
export interface OverrideOrigin {
  readonly path: ValuePath;
  readonly flag: string;
}

/** A problem with an override itself (found before validation). */
export interface OverrideProblem {
  readonly flag: string;
  readonly path: ValuePath;
  readonly message: string;
}

/** The raw scenario with the overrides applied, what came from where, and what could not be. */
export interface AppliedOverrides {
  /** A copy of the raw data with the overrides written in. */
  readonly value: unknown;
  readonly origins: readonly OverrideOrigin[];
  readonly problems: readonly OverrideProblem[];
}

type Raw = Record<string, unknown>;

/**
 * Applies `overrides` to a copy of `raw` (the file's parsed YAML). Parts of `raw` of the wrong
 * shape are left alone for validation to report at their line.
 */
export function applyOverrides(raw: unknown, overrides: ScenarioOverrides): AppliedOverrides {
  const origins: OverrideOrigin[] = [];
  const problems: OverrideProblem[] = [];
  if (!isRecord(raw)) return { value: raw, origins, problems };
  const root = structuredClone(raw);
  /** Writes `value` at `path` (creating absent mappings on the way) when the flag was given. */
  const set = (key: keyof ScenarioOverrides, path: ValuePath, value: unknown): void => {
    if (value === undefined) return;
    let parent: unknown = root;
    for (const segment of path.slice(0, -1)) {
      parent = isRecord(parent) || Array.isArray(parent) ? descend(parent, segment) : undefined;
    }
    if (!isRecord(parent)) return;
    parent[path[path.length - 1]!] = value;
    origins.push({ path, flag: overrideFlags[key].flag });
  };

  set('driver', ['target', 'driver'], overrides.driver);
  set('endpoint', ['target', 'endpoint'], overrides.endpoint);
  // An endpoint is where a CRI runtime listens: giving one means the cri driver, so
  // `--endpoint …` alone never silently runs against the built-in core instead.
  if (overrides.endpoint !== undefined) {
    if (overrides.driver === undefined) {
      set('endpoint', ['target', 'driver'], 'cri');
    } else if (overrides.driver !== 'cri') {
      problems.push({
        flag: overrideFlags.endpoint.flag,
        path: ['target', 'endpoint'],
        message: `applies to --driver cri, not --driver ${overrides.driver}`,
      });
    }
  }
  set('runtimeHandler', ['target', 'runtimeHandler'], overrides.runtimeHandler);
  set('executor', ['target', 'executor'], overrides.executor);
  set('taskUser', ['target', 'taskUser'], overrides.taskUser);
  set('seed', ['seed'], overrides.seed);
  set('iterations', ['load', 'iterations'], overrides.iterations);
  set('reportDir', ['report', 'dir'], overrides.reportDir);
  set('checkpointInterval', ['report', 'checkpointInterval'], overrides.checkpointInterval);
  set('maxHarnessLag', ['integrity', 'maxHarnessLagP99'], overrides.maxHarnessLag);
  set('maxDropped', ['integrity', 'maxDroppedRatio'], overrides.maxDropped);
  set('maxOutage', ['integrity', 'maxOutage'], overrides.maxOutage);
  set('allow', ['integrity', 'allow'], overrides.allow);
  set('leakCheckInterval', ['leaks', 'checkInterval'], overrides.leakCheckInterval);

  const workloads = root['workloads'];
  if (Array.isArray(workloads)) {
    workloads.forEach((_: unknown, i) => set('image', ['workloads', i, 'image'], overrides.image));
  } else {
    set('image', ['workload', 'image'], overrides.image);
  }

  for (const pair of overrides.labels ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      problems.push({
        flag: overrideFlags.labels.flag,
        path: ['report', 'labels'],
        message: `"${pair}" is not key=value`,
      });
    } else {
      set('labels', ['report', 'labels', pair.slice(0, eq)], pair.slice(eq + 1));
    }
  }

  const changesPhases =
    overrides.duration !== undefined ||
    overrides.concurrency !== undefined ||
    overrides.rate !== undefined;
  const load = changesPhases ? descend(root, 'load') : undefined;
  if (isRecord(load)) {
    if (load['phases'] === undefined) load['phases'] = defaultPhasesInput.map((p) => ({ ...p }));
    const phases = load['phases'];
    if (Array.isArray(phases)) {
      if (overrides.concurrency !== undefined && overrides.rate !== undefined) {
        problems.push({
          flag: overrideFlags.rate.flag,
          path: ['load', 'phases'],
          message: 'cannot be combined with --concurrency: a phase is closed loop or open loop',
        });
      } else {
        overrideLoopModel(phases, overrides, origins);
      }
      if (overrides.duration !== undefined) {
        overrideDuration(phases, overrides.duration, origins, problems);
      }
    }
  }
  return { value: root, origins, problems };
}

function overrideLoopModel(
  phases: unknown[],
  overrides: ScenarioOverrides,
  origins: OverrideOrigin[],
): void {
  phases.forEach((phase, i) => {
    if (!isRecord(phase) || phase['pause'] !== undefined) return;
    if (overrides.concurrency !== undefined) {
      delete phase['arrivalRate'];
      delete phase['arrivals'];
      delete phase['rampTo'];
      phase['concurrency'] = overrides.concurrency;
      origins.push({
        path: ['load', 'phases', i, 'concurrency'],
        flag: overrideFlags.concurrency.flag,
      });
    } else if (overrides.rate !== undefined) {
      delete phase['concurrency'];
      delete phase['iterationsPerWorker'];
      delete phase['rampTo'];
      phase['arrivalRate'] = overrides.rate;
      origins.push({ path: ['load', 'phases', i, 'arrivalRate'], flag: overrideFlags.rate.flag });
    }
  });
}

/**
 * One phase: its duration (or pause) becomes `text` as given. Several: each is scaled by the
 * same factor so they add up to `text`, rounded to whole milliseconds with the rounding carried
 * along, so the sum is exact. Phases whose own duration is invalid are left for validation.
 */
function overrideDuration(
  phases: unknown[],
  text: string,
  origins: OverrideOrigin[],
  problems: OverrideProblem[],
): void {
  const flag = overrideFlags.duration.flag;
  const keyOf = (phase: Raw): 'pause' | 'duration' =>
    phase['pause'] !== undefined ? 'pause' : 'duration';
  if (phases.length === 1) {
    const phase = phases[0];
    if (!isRecord(phase)) return;
    phase[keyOf(phase)] = text;
    origins.push({ path: ['load', 'phases', 0, keyOf(phase)], flag });
    return;
  }
  const totalMs = parseDurationMs(text);
  if (totalMs === undefined || totalMs <= 0) {
    problems.push({
      flag,
      path: ['load', 'phases'],
      message: totalMs === undefined ? explainBadDuration(text) : 'must be more than 0',
    });
    return;
  }
  const lengths = phases.map((phase) => {
    if (!isRecord(phase)) return undefined;
    const value = phase[keyOf(phase)];
    return typeof value === 'string' ? parseDurationMs(value) : undefined;
  });
  if (lengths.some((ms) => ms === undefined)) return;
  const fileTotalMs = (lengths as number[]).reduce((a, b) => a + b, 0);
  if (fileTotalMs <= 0) return;
  let elapsedMs = 0;
  let previousEndMs = 0;
  const scaledMs = (lengths as number[]).map((lengthMs) => {
    elapsedMs += lengthMs;
    const endMs = Math.round((elapsedMs * totalMs) / fileTotalMs);
    const ms = endMs - previousEndMs;
    previousEndMs = endMs;
    return ms;
  });
  const tooLong = scaledMs.findIndex((ms) => !(ms <= maxDurationMs));
  if (tooLong >= 0) {
    problems.push({
      flag,
      path: ['load', 'phases'],
      message: `"${text}" would stretch phase ${tooLong + 1} beyond ${maxDurationText}, the longest a phase may last`,
    });
    return;
  }
  phases.forEach((phase, i) => {
    const record = phase as Raw;
    record[keyOf(record)] = formatDurationMs(scaledMs[i]!);
    origins.push({ path: ['load', 'phases', i, keyOf(record)], flag });
  });
}

/** `container[key]`, with an absent mapping entry created empty on the way. */
function descend(container: Raw | unknown[], key: string | number): unknown {
  const entries = container as Record<string | number, unknown>;
  if (entries[key] === undefined && !Array.isArray(container)) entries[key] = {};
  return entries[key];
}

function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
