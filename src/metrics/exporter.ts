/**
 * The Prometheus exporter: churn's own prom-client registry (never the global one) holding
 * every metric of the catalog, fed by the recorder as a {@link RecorderObserver} and by the
 * resource sampler.
 *
 * Cost. The recorder asks once per (workload, op) slot for a sink; the sink's `success` is one
 * bucket search and three additions, its `failure` one map update. Nothing is hashed,
 * validated or allocated per operation: prom-client's counters and gauges are filled from these
 * cells when the registry is read (a scrape, a push), histograms read them directly
 * ({@link BucketHistogram}).
 *
 * Series exist from the start at zero (every slot's histogram and success counter, both cycle
 * outcomes, drops), so `rate()` sees the first increment. Error series appear with their
 * first error. Error codes are bounded: a code that is not an upper-case identifier, or beyond
 * the 32nd distinct code of an operation, is counted as `OTHER`.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { OpName } from '../common/operations.js';
import { BucketHistogram, type BucketCounts } from './bucket-histogram.js';
import {
  durationBucketsSeconds,
  lagBucketsSeconds,
  metricSpec,
  type MetricSpec,
} from './catalog.js';
import type { CycleOutcome, RecorderObserver, SlotObserver } from './recorder.js';
import type { ResourceSample } from './resource-sample.js';

/** Options of a {@link MetricsExporter}: what every series of the run is labelled with. */
export interface MetricsExporterOptions {
  readonly scenario: string;
  readonly driver: string;
  readonly runId: string;
  readonly churnVersion: string;
}

/** The runtime as `churn_run_info` names it. */
export interface RuntimeLabels {
  readonly runtime: string;
  readonly runtimeVersion: string;
  readonly handler: string;
}

/** Distinct error codes kept per operation before further ones count as OTHER. */
export const maxCodesPerOp = 32;
const codePattern = /^[A-Z][A-Z0-9_]{0,47}$/;

/** The recording cell of one (workload, op): its histogram and its failures by code. */
class OpCell implements SlotObserver {
  readonly errorsByCode = new Map<string, number>();

  constructor(
    readonly workload: string,
    readonly op: OpName,
    readonly histogram: BucketCounts,
  ) {}

  success(latencyUs: number): void {
    this.histogram.observeUs(latencyUs);
  }

  failure(code: string): void {
    const map = this.errorsByCode;
    const n = map.get(code);
    if (n !== undefined) {
      map.set(code, n + 1);
      return;
    }
    const key = codePattern.test(code) && map.size < maxCodesPerOp ? code : 'OTHER';
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  get errors(): number {
    let sum = 0;
    for (const n of this.errorsByCode.values()) sum += n;
    return sum;
  }
}

/** Builds prom-client config from a catalog entry. */
function config(
  spec: MetricSpec,
  registry: Registry,
  collect: () => void,
): {
  name: string;
  help: string;
  labelNames: string[];
  registers: Registry[];
  collect: () => void;
} {
  return {
    name: spec.name,
    help: spec.help,
    labelNames: [...spec.labels],
    registers: [registry],
    collect,
  };
}

/** Exports a run's metrics; see the module comment. */
export class MetricsExporter implements RecorderObserver {
  /** churn's own registry: read it for /metrics and pushes. */
  readonly registry = new Registry();
  readonly #base: { readonly scenario: string; readonly driver: string };
  readonly #cells = new Map<string, OpCell>();
  /** Cycles finished per workload, every phase (the recorder's cycleFinished). */
  readonly #cycles = new Map<string, { success: number; error: number }>();
  readonly #durations: BucketHistogram;
  readonly #lag: BucketCounts;
  #runtime: RuntimeLabels = { runtime: '', runtimeVersion: '', handler: '' };
  #active = true;
  #dropped = 0;
  #inflight = 0;
  #resources: ResourceSample | undefined;
  #reachable = true;

  constructor(options: MetricsExporterOptions) {
    this.#base = { scenario: options.scenario, driver: options.driver };
    const registry = this.registry;
    const base = this.#base;

    const runInfo: Gauge = new Gauge(
      config(metricSpec('churn_run_info'), registry, () => {
        runInfo.reset();
        runInfo.set(
          {
            ...base,
            runtime: this.#runtime.runtime,
            runtime_version: this.#runtime.runtimeVersion,
            handler: this.#runtime.handler,
            churn_version: options.churnVersion,
            run_id: options.runId,
          },
          1,
        );
      }),
    );
    const active: Gauge = new Gauge(
      config(metricSpec('churn_run_active'), registry, () =>
        active.set(base, this.#active ? 1 : 0),
      ),
    );
    const durationSpec = metricSpec('churn_operation_duration_seconds');
    this.#durations = new BucketHistogram({
      name: durationSpec.name,
      help: durationSpec.help,
      labelNames: durationSpec.labels,
      bucketsSeconds: durationBucketsSeconds,
      registry,
    });
    const operations: Counter = new Counter(
      config(metricSpec('churn_operations_total'), registry, () => {
        operations.reset();
        for (const cell of this.#cells.values()) {
          const labels = { ...base, workload: cell.workload, op: cell.op };
          operations.inc({ ...labels, outcome: 'success', code: 'OK' }, cell.histogram.count);
          for (const [code, n] of cell.errorsByCode) {
            operations.inc({ ...labels, outcome: 'error', code }, n);
          }
        }
      }),
    );
    const cycles: Counter = new Counter(
      config(metricSpec('churn_cycles_total'), registry, () => {
        cycles.reset();
        for (const [workload, counts] of this.#cycles) {
          const labels = { ...base, workload };
          cycles.inc({ ...labels, outcome: 'success' }, counts.success);
          cycles.inc({ ...labels, outcome: 'error' }, counts.error);
        }
      }),
    );
    const dropped: Counter = new Counter(
      config(metricSpec('churn_cycles_dropped_total'), registry, () => {
        dropped.reset();
        dropped.inc(base, this.#dropped);
      }),
    );
    const inflight: Gauge = new Gauge(
      config(metricSpec('churn_inflight_cycles'), registry, () =>
        inflight.set(base, this.#inflight),
      ),
    );
    const lagSpec = metricSpec('churn_scheduler_lag_seconds');
    this.#lag = new BucketHistogram({
      name: lagSpec.name,
      help: lagSpec.help,
      labelNames: lagSpec.labels,
      bucketsSeconds: lagBucketsSeconds,
      registry,
    }).cell(base);

    this.#harnessMetrics();
    this.#targetMetrics();
  }

  /** The content type of {@link MetricsExporter.metrics}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text of every metric (what /metrics serves and a push sends). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** Recorder hook: the sink of (`workload`, `op`), at zero. */
  slot(workload: string, op: OpName): SlotObserver {
    const key = `${workload}\u0000${op}`;
    let cell = this.#cells.get(key);
    if (cell === undefined) {
      cell = new OpCell(workload, op, this.#durations.cell({ ...this.#base, workload, op }));
      this.#cells.set(key, cell);
    }
    if (op === 'cycle') this.#cyclesOf(workload);
    return cell;
  }

  /** Recorder hook: a cycle of `workload` finished, in any phase. */
  cycleFinished(workload: string, outcome: CycleOutcome): void {
    this.#cyclesOf(workload)[outcome]++;
  }

  /** The cycle counts of `workload`, created at zero (so its series exist from the start). */
  #cyclesOf(workload: string): { success: number; error: number } {
    let counts = this.#cycles.get(workload);
    if (counts === undefined) {
      counts = { success: 0, error: 0 };
      this.#cycles.set(workload, counts);
    }
    return counts;
  }

  /** Recorder hook: one open-loop arrival dropped. */
  dropped(): void {
    this.#dropped++;
  }

  /** Recorder hook: one released arrival's scheduler lag. */
  lag(lagUs: number): void {
    this.#lag.observeUs(lagUs);
  }

  /** Recorder hook: cycles in flight now. */
  inflight(count: number): void {
    this.#inflight = count;
  }

  /** Names the runtime in `churn_run_info` (once connected). */
  setRuntime(runtime: RuntimeLabels): void {
    this.#runtime = runtime;
  }

  /** `churn_run_active`: false once the run has ended. */
  setActive(active: boolean): void {
    this.#active = active;
  }

  /** The latest resource sample, exported as churn_process_* and churn_target_*. */
  /**
   * Whether the run reaches its runtime (false during an outage): `churn_target_up` is 0 while
   * it does not, even when the daemon's process can still be read.
   */
  setReachable(reachable: boolean): void {
    this.#reachable = reachable;
  }

  setResources(sample: ResourceSample): void {
    this.#resources = sample;
  }

  #harnessMetrics(): void {
    const registry = this.registry;
    const gauge = (name: string, read: (s: ResourceSample) => number | undefined): void => {
      const g: Gauge = new Gauge(
        config(metricSpec(name), registry, () => {
          g.reset();
          const value = this.#resources === undefined ? undefined : read(this.#resources);
          if (value !== undefined) g.set(value);
        }),
      );
    };
    const cpu: Counter = new Counter(
      config(metricSpec('churn_process_cpu_seconds_total'), registry, () => {
        cpu.reset();
        if (this.#resources !== undefined) cpu.inc(this.#resources.harness.cpuSeconds);
      }),
    );
    gauge('churn_process_resident_memory_bytes', (s) => s.harness.rssBytes);
    gauge('churn_process_heap_used_bytes', (s) => s.harness.heapUsedBytes);
    gauge('churn_process_open_fds', (s) => s.harness.openFds);
    gauge('churn_process_event_loop_lag_p99_seconds', (s) => s.harness.eventLoopLagP99Seconds);
    gauge('churn_process_event_loop_lag_max_seconds', (s) => s.harness.eventLoopLagMaxSeconds);
  }

  #targetMetrics(): void {
    const registry = this.registry;
    const target = (): ResourceSample['target'] => this.#resources?.target;
    const up: Gauge = new Gauge(
      config(metricSpec('churn_target_up'), registry, () => {
        up.reset();
        const t = target();
        if (t !== undefined) up.set({ target: t.name }, t.up && this.#reachable ? 1 : 0);
      }),
    );
    const cpu: Counter = new Counter(
      config(metricSpec('churn_target_cpu_seconds_total'), registry, () => {
        cpu.reset();
        const t = target();
        if (t?.cpuSeconds !== undefined) cpu.inc({ target: t.name }, t.cpuSeconds);
      }),
    );
    const gauge = (
      name: string,
      read: (t: NonNullable<ResourceSample['target']>) => number | undefined,
    ): void => {
      const g: Gauge = new Gauge(
        config(metricSpec(name), registry, () => {
          g.reset();
          const t = target();
          const value = t === undefined ? undefined : read(t);
          if (t !== undefined && value !== undefined) g.set({ target: t.name }, value);
        }),
      );
    };
    gauge('churn_target_resident_memory_bytes', (t) => t.rssBytes);
    gauge('churn_target_open_fds', (t) => t.openFds);
    gauge('churn_target_threads', (t) => t.threads);
    gauge('churn_target_shims', (t) => t.shims);
    gauge('churn_target_shim_resident_memory_bytes', (t) => t.shimRssBytes);
  }
}
