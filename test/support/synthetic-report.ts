/**
 * Synthetic reports for method and rendering tests: latencies drawn from seeded log-normal
 * distributions, recorded through the real Recorder against virtual time and built with the
 * real buildReport, so the report has every field a real run writes (histograms, timeline).
 *
 *   const report = syntheticReport({ seed: 1, ops: { start: { medianMs: 20 } } });
 */
import type { OpName } from '../../src/common/operations.js';
import type { RunMark } from '../../src/common/run-marks.js';
import { Recorder } from '../../src/metrics/recorder.js';
import { buildReport, type RunOutcome, type ThresholdOutcome } from '../../src/report/build.js';
import { deriveSeed, normal, seededRandom } from '../../src/common/seeded-random.js';
import type { HostInfo } from '../../src/report/host-info.js';
import type { Report } from '../../src/report/schema.js';
import { scenarioSchema } from '../../src/scenario/schema.js';
import { FakeClock } from './fake-clock.js';

/** Latency of one operation: log-normal with this median and log-space sigma, times `scale`. */
export interface LatencyModel {
  readonly medianMs: number;
  /** Spread in log space. Default 0.5. */
  readonly sigma?: number;
  /** Multiplies every draw (a regression of +20% is 1.2). Default 1. */
  readonly scale?: number;
  /** Multiplies only the draws above the base distribution's p95 (tail-only changes). */
  readonly tailScale?: number;
  /** Fraction of calls that fail (with UNAVAILABLE). Default 0. */
  readonly errorRate?: number;
}

/** Options of {@link syntheticReport}. */
export interface SyntheticOptions {
  readonly seed: number;
  /** Recorded time, ms. Default 10 000. */
  readonly durationMs?: number;
  /** Cycles per second (each does every op once). Default 100. */
  readonly ratePerSec?: number;
  /** Timeline interval, ms. Default 1000. */
  readonly intervalMs?: number;
  /** Per operation; `cycle` is recorded as the sum of the others. */
  readonly ops: Partial<Record<Exclude<OpName, 'cycle'>, LatencyModel>>;
  readonly scenarioName?: string;
  /** Extra scenario keys (load, workload, faults, thresholds …) as a file would hold them. */
  readonly scenario?: Record<string, unknown>;
  readonly runId?: string;
  /** Wall-clock start, ms since the epoch. Default 2025-03-01T10:00:00Z. */
  readonly startWallMs?: number;
  readonly host?: Partial<HostInfo>;
  readonly runtime?: { readonly name: string; readonly version: string; readonly handler?: string };
  readonly thresholds?: readonly ThresholdOutcome[];
  readonly state?: RunOutcome['state'];
  /** With state `running`: a checkpoint, this one of the run's (at the report's end). */
  readonly checkpoint?: { readonly index: number; readonly intervalMs: number };
  /** Open-loop arrivals dropped, spread over the run. */
  readonly dropped?: number;
  /** Record a scheduler lag per cycle (open loop). */
  readonly lag?: boolean;
  /**
   * Spread (log space) of a level drawn once per timeline interval: every latency of a cycle
   * that starts in the interval is multiplied by exp(levelSigma · N(0, 1)) and recorded in that
   * interval, so latencies are autocorrelated within a run (as on a shared machine whose load
   * comes and goes) while intervals stay independent. Default 0 (independent latencies).
   */
  readonly levelSigma?: number;
}

/** The host every synthetic report ran on. */
/** The cleanup of a run that left nothing: no sweep, no call failed (`calls` to set). */
export const nothingLeftCleanup: RunOutcome['cleanup'] = {
  calls: 0,
  failures: 0,
  failuresByCode: {},
  sweptPods: 0,
  sweptContainers: 0,
  remainingPods: 0,
  remainingContainers: 0,
};

export const syntheticHost: HostInfo = {
  churnVersion: '0.1.0',
  gitCommit: '0123456789abcdef0123456789abcdef01234567',
  node: 'v20.19.0',
  os: 'linux',
  kernel: '6.1.0-18-amd64',
  arch: 'x64',
  cpuModel: 'Synthetic CPU @ 2.00GHz',
  cpuCount: 2,
  cgroupVersion: 2,
};

const stepOrder = ['run_pod', 'create', 'start', 'stop', 'remove', 'stop_pod', 'remove_pod'];

/** Builds a report; see the module comment. Deterministic for equal options. */
export function syntheticReport(options: SyntheticOptions): Report {
  const durationMs = options.durationMs ?? 10_000;
  const ratePerSec = options.ratePerSec ?? 100;
  const random = seededRandom(options.seed);
  const clock = new FakeClock({ auto: false, startMs: 0 });
  const recorder = new Recorder({ clock, intervalMs: options.intervalMs ?? 1000 });
  try {
    recorder.startRecording(0);
    const ops = (Object.entries(options.ops) as [OpName, LatencyModel][]).sort(
      (a, b) => stepOrder.indexOf(a[0]) - stepOrder.indexOf(b[0]),
    );
    const slots = ops.map(([op]) => recorder.slot('default', op));
    const cycleSlot = recorder.slot('default', 'cycle');
    const cycles = Math.floor((durationMs / 1000) * ratePerSec);
    const intervalMs = options.intervalMs ?? 1000;
    // Its own stream: the latency draws stay the same whatever the levels are.
    const levelRandom = seededRandom(deriveSeed(options.seed, 'level'));
    const levels: number[] = [];
    const levelled = (options.levelSigma ?? 0) > 0;
    const levelAt = (ms: number): number => {
      const i = Math.floor(ms / intervalMs);
      while (levels.length <= i) levels.push(Math.exp(normal(levelRandom, 0, options.levelSigma!)));
      return levels[i]!;
    };
    const droppedEvery = options.dropped ? Math.max(1, Math.floor(cycles / options.dropped)) : 0;
    let dropped = 0;
    let succeeded = 0;
    let failed = 0;
    for (let i = 0; i < cycles; i++) {
      const t = (i * 1000) / ratePerSec;
      if (options.lag === true) recorder.recordLag(50 + random.next() * 500, t);
      if (droppedEvery > 0 && i % droppedEvery === droppedEvery - 1 && dropped < options.dropped!) {
        recorder.recordDropped(t);
        dropped++;
      }
      let cycleUs = 0;
      let cycleFailed = false;
      // With levels, a cycle's values stay in the interval whose level they have.
      const lastMs = Math.min(
        durationMs - 0.001,
        levelled ? (Math.floor(t / intervalMs) + 1) * intervalMs - 0.001 : Infinity,
      );
      for (const [k, [, model]] of ops.entries()) {
        const sigma = model.sigma ?? 0.5;
        const draw = model.medianMs * Math.exp(sigma * normal(random, 0, 1));
        const p95 = model.medianMs * Math.exp(sigma * 1.645);
        let ms = draw * (model.scale ?? 1) * (levelled ? levelAt(t) : 1);
        if (model.tailScale !== undefined && draw > p95) ms *= model.tailScale;
        if ((model.errorRate ?? 0) > 0 && random.next() < model.errorRate!) {
          slots[k]!.failure('UNAVAILABLE', t + cycleUs / 1000);
          cycleFailed = true;
          break;
        }
        cycleUs += ms * 1000;
        slots[k]!.success(ms * 1000, Math.min(t + cycleUs / 1000, lastMs));
      }
      const end = Math.min(t + cycleUs / 1000, lastMs);
      if (cycleFailed) {
        cycleSlot.failure('UNAVAILABLE', end);
        failed++;
      } else {
        cycleSlot.success(cycleUs, end);
        succeeded++;
      }
    }
    recorder.stopRecording(durationMs);
    const snapshot = recorder.snapshot({ histograms: true, nowMs: durationMs });
    const scenario = scenarioSchema.parse({
      name: options.scenarioName ?? 'synthetic',
      load: { phases: [{ duration: `${durationMs}ms`, concurrency: 2 }] },
      ...options.scenario,
    });
    const startWallMs = options.startWallMs ?? Date.UTC(2025, 2, 1, 10, 0, 0);
    const state = options.state ?? 'completed';
    const outcome: RunOutcome = {
      state,
      ...(state === 'completed' ? { endedBy: 'plan' as const } : {}),
      runId: options.runId ?? `syn${options.seed}`,
      seed: options.seed,
      startWallMs,
      endWallMs: startWallMs + durationMs + 150,
      durationMs: durationMs + 150,
      runtime: {
        runtimeName: options.runtime?.name ?? 'churn-core',
        runtimeVersion: options.runtime?.version ?? '0.1.0',
        runtimeApiVersion: 'v1',
        runtimeHandler: options.runtime?.handler ?? '',
      },
      cycles: { started: cycles, succeeded, failed, cut: 0, dropped, arrivals: null },
      cleanup: { ...nothingLeftCleanup, calls: failed },
      snapshot,
      thresholds: options.thresholds ?? [],
      warnings: [],
      ...(options.checkpoint !== undefined ? { checkpoint: options.checkpoint } : {}),
    };
    return buildReport({ outcome, scenario, host: { ...syntheticHost, ...options.host } });
  } finally {
    recorder.release();
  }
}

/** Every operation of the default cycle, with plausible medians (ms). */
export function defaultOps(
  overrides: Partial<Record<Exclude<OpName, 'cycle'>, Partial<LatencyModel>>> = {},
): Partial<Record<Exclude<OpName, 'cycle'>, LatencyModel>> {
  const medians: Record<string, number> = {
    run_pod: 2,
    create: 1,
    start: 20,
    stop: 5,
    remove: 0.5,
    stop_pod: 0.8,
    remove_pod: 0.4,
  };
  const out: Partial<Record<Exclude<OpName, 'cycle'>, LatencyModel>> = {};
  for (const op of stepOrder as Exclude<OpName, 'cycle'>[]) {
    out[op] = { medianMs: medians[op]!, ...overrides[op] };
  }
  return out;
}

/**
 * `report` with the run-health fields of the shared report contract set in memory:
 * `run.marks` and `harness.contention` (the rest of `harness` as a run without stalls would
 * write it). For tests of what compare and history make of them.
 */
export function withRunHealth(
  report: Report,
  health: {
    readonly marks?: readonly RunMark[];
    readonly contention?: {
      readonly load1Mean: number | null;
      readonly stealPct: number | null;
      readonly otherCpuPct: number | null;
    };
  },
): Report {
  const harness =
    health.contention === undefined
      ? {}
      : {
          harness: {
            lagBoundMs: 250,
            lagP99Ms: 2,
            lagMaxMs: 5,
            utilization: 0.2,
            cpuSeconds: 1,
            cpuWaitPct: null,
            contention: health.contention,
            stalls: [],
          },
        };
  return {
    ...report,
    run: { ...report.run, ...(health.marks !== undefined ? { marks: health.marks } : {}) },
    ...harness,
  };
}
