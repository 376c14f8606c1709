/**
 * The metrics side of `churn run`: its flags, and the exporter, /metrics server, Pushgateway
 * pusher and resource sampler they ask for, from before the run starts until after it ends.
 *
 * Order: {@link RunMetrics.start} checks the flags, resolves an explicit target, binds
 * /metrics (printing the address: port 0 picks a free one) and starts the sampler and the
 * pushes; the driver is wrapped so that connecting names the runtime in `churn_run_info` and,
 * without an explicit target, makes the daemon the driver reported the target (the core's
 * process for the builtin driver). {@link RunMetrics.finish} (after the run) marks the run inactive,
 * takes a last sample, pushes the final values (and deletes the group when asked), and returns
 * the resource series and any warnings for the report. {@link RunMetrics.linger} keeps /metrics
 * up for `--metrics-linger` so the last scrape sees the final values; a stop signal ends it.
 * {@link RunMetrics.close} releases everything, on every path.
 *
 * The exporter, the /metrics server and the pusher (and with them prom-client) are imported
 * only when --metrics-port or --pushgateway asks for them: a run without either never loads
 * them, which spares it their start-up CPU (docs/performance.md).
 */
import { hostname } from 'node:os';
import type { Clock } from '../common/clock.js';
import { ChurnError } from '../common/errors.js';
import type { Driver, RuntimeInfo } from '../drivers/driver.js';
import type { LiveStatus } from '../load/live-status.js';
import type { MetricsExporter } from '../metrics/exporter.js';
import type { MetricsServer } from '../metrics/metrics-server.js';
import type { MetricsPusher } from '../metrics/pushgateway.js';
import { checkPushgatewayUrl } from '../metrics/pushgateway-url.js';
import type { RecorderObserver } from '../metrics/recorder.js';
import type { ResourceSeriesData } from '../metrics/resource-series.js';
import {
  ResourceSampler,
  describeTargetPid,
  resolveTargetProcess,
  type TargetSpec,
} from '../metrics/sampler.js';
import type { HarnessRunFigures } from '../metrics/process-metrics.js';
import { targetTrend, type TargetTrend } from '../metrics/trend.js';
import { explainBadDuration, formatDurationMs, parseDurationMs } from '../scenario/units.js';
import { ConnectObserver } from './connect-observer.js';
import type { CliIo } from './io.js';

/** Default of `--metrics-linger`: long enough for one more scrape at Prometheus's usual 15 s. */
export const defaultMetricsLingerMs = 30_000;
/** Default of `--push-interval`. */
export const defaultPushIntervalMs = 10_000;

/** The metrics flags of `churn run`, checked. */
export interface MetricsFlags {
  /** Serve /metrics on this port (0: any free port); undefined: no server. */
  readonly port: number | undefined;
  readonly host: string;
  /** How long /metrics stays up after the run, ms. */
  readonly lingerMs: number;
  /** Pushgateway URL; undefined: no pushes. */
  readonly pushgateway: string | undefined;
  readonly pushIntervalMs: number;
  readonly pushDelete: boolean;
  /** `instance` grouping label of pushes. */
  readonly pushInstance: string;
  readonly targetPid: number | undefined;
  readonly targetProcess: string | undefined;
}

/** The flags as yargs parsed them (see commands/run.ts). */
export interface MetricsArgs {
  readonly 'metrics-port'?: number | undefined;
  readonly 'metrics-host'?: string | undefined;
  readonly 'metrics-linger'?: string | undefined;
  readonly pushgateway?: string | undefined;
  readonly 'push-interval'?: string | undefined;
  readonly 'pushgateway-delete'?: boolean | undefined;
  readonly 'push-instance'?: string | undefined;
  readonly 'target-pid'?: number | undefined;
  readonly 'target-process'?: string | undefined;
}

function durationFlag(flag: string, text: string): number {
  if (text.trim() === '0') return 0;
  const ms = parseDurationMs(text);
  if (ms === undefined) throw new ChurnError('USAGE', `${flag}: ${explainBadDuration(text)}`);
  return ms;
}

function requires(present: unknown, flag: string, needs: string): void {
  if (present !== undefined && present !== false) {
    throw new ChurnError('USAGE', `${flag} needs ${needs}`);
  }
}

/** Checks the metrics flags; USAGE naming the flag when one is wrong or lacks its partner. */
export function metricsFlagsFromArgs(args: MetricsArgs): MetricsFlags {
  const port = args['metrics-port'];
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new ChurnError(
      'USAGE',
      `--metrics-port ${String(port)}: use a port number 0–65535 (0: any free port)`,
    );
  }
  if (port === undefined) {
    requires(args['metrics-host'], '--metrics-host', '--metrics-port');
    requires(args['metrics-linger'], '--metrics-linger', '--metrics-port');
  }
  const pushgateway =
    args.pushgateway === undefined ? undefined : checkPushgatewayUrl(args.pushgateway);
  if (pushgateway === undefined) {
    requires(args['push-interval'], '--push-interval', '--pushgateway URL');
    requires(args['pushgateway-delete'], '--pushgateway-delete', '--pushgateway URL');
    requires(args['push-instance'], '--push-instance', '--pushgateway URL');
  }
  const pushIntervalMs =
    args['push-interval'] === undefined
      ? defaultPushIntervalMs
      : durationFlag('--push-interval', args['push-interval']);
  if (pushIntervalMs < 100) {
    throw new ChurnError(
      'USAGE',
      `--push-interval ${args['push-interval'] ?? ''}: use at least 100ms (the default is ${formatDurationMs(defaultPushIntervalMs)})`,
    );
  }
  const targetPid = args['target-pid'];
  if (targetPid !== undefined && !(Number.isInteger(targetPid) && targetPid > 0)) {
    throw new ChurnError('USAGE', `--target-pid ${String(targetPid)}: use a process id (> 0)`);
  }
  const targetProcess = args['target-process'];
  if (targetPid !== undefined && targetProcess !== undefined) {
    throw new ChurnError(
      'USAGE',
      '--target-pid and --target-process cannot be used together: choose one',
    );
  }
  if (targetProcess?.trim() === '') {
    throw new ChurnError('USAGE', '--target-process: give a process name, e.g. containerd');
  }
  const host = args['metrics-host'] ?? '127.0.0.1';
  if (host.trim() === '') {
    throw new ChurnError('USAGE', '--metrics-host: give an address, e.g. 127.0.0.1 or 0.0.0.0');
  }
  const instance = args['push-instance'] ?? hostname();
  if (instance.trim() === '') {
    throw new ChurnError('USAGE', '--push-instance: give a name (default: the host name)');
  }
  return {
    port,
    host,
    lingerMs:
      args['metrics-linger'] === undefined
        ? defaultMetricsLingerMs
        : durationFlag('--metrics-linger', args['metrics-linger']),
    pushgateway,
    pushIntervalMs,
    pushDelete: args['pushgateway-delete'] ?? false,
    pushInstance: instance,
    targetPid,
    targetProcess,
  };
}

/** What {@link RunMetrics.start} needs to know about the run. */
export interface RunMetricsContext {
  readonly scenario: string;
  readonly driver: string;
  readonly runId: string;
  readonly churnVersion: string;
  readonly clock: Clock;
  readonly io: CliIo;
  /** Say what happens on stderr (human output); addresses are printed in every mode. */
  readonly verbose: boolean;
}

/** What the metrics side hands to the report. */
export interface RunMetricsResult {
  readonly resources: ResourceSeriesData;
  /** churn's event loop and CPU over the run. */
  readonly harness: HarnessRunFigures;
  /** Push failures and the like, for the report's warnings. */
  readonly warnings: readonly string[];
}

/** The exporter, server, pusher and sampler of one run; see the module comment. */
export class RunMetrics {
  readonly #flags: MetricsFlags;
  readonly #context: RunMetricsContext;
  readonly #exporter: MetricsExporter | undefined;
  readonly #sampler: ResourceSampler;
  readonly #explicitTarget: boolean;
  #server: MetricsServer | undefined;
  #pusher: MetricsPusher | undefined;
  #finished: RunMetricsResult | undefined;

  private constructor(
    flags: MetricsFlags,
    context: RunMetricsContext,
    target: TargetSpec | undefined,
    exporter: MetricsExporter | undefined,
  ) {
    this.#flags = flags;
    this.#context = context;
    this.#exporter = exporter;
    this.#sampler = new ResourceSampler({
      clock: context.clock,
      ...(exporter !== undefined ? { onSample: (s) => exporter.setResources(s) } : {}),
    });
    this.#explicitTarget = target !== undefined;
    if (target !== undefined) this.#sampler.setTarget(target);
  }

  /**
   * Resolves the target, binds /metrics and starts sampling and pushing. USAGE when the target
   * cannot be found or the address cannot be bound; nothing is left running then.
   */
  static async start(flags: MetricsFlags, context: RunMetricsContext): Promise<RunMetrics> {
    let target: TargetSpec | undefined;
    if (flags.targetPid !== undefined) {
      target = {
        source: 'pid',
        pid: flags.targetPid,
        name: await describeTargetPid(flags.targetPid),
      };
    } else if (flags.targetProcess !== undefined) {
      target = {
        source: 'process',
        pid: await resolveTargetProcess(flags.targetProcess),
        name: flags.targetProcess,
      };
    }
    const exported = flags.port !== undefined || flags.pushgateway !== undefined;
    const exporter = exported
      ? new (await import('../metrics/exporter.js')).MetricsExporter({
          scenario: context.scenario,
          driver: context.driver,
          runId: context.runId,
          churnVersion: context.churnVersion,
        })
      : undefined;
    const metrics = new RunMetrics(flags, context, target, exporter);
    try {
      await metrics.#open();
    } catch (err) {
      await metrics.close();
      throw err;
    }
    return metrics;
  }

  async #open(): Promise<void> {
    const flags = this.#flags;
    const { io } = this.#context;
    const exporter = this.#exporter;
    if (exporter !== undefined && flags.port !== undefined) {
      const { MetricsServer } = await import('../metrics/metrics-server.js');
      this.#server = await MetricsServer.listen({
        source: exporter,
        host: flags.host,
        port: flags.port,
      });
      io.stderr.write(`churn: metrics at ${this.#server.url}\n`);
    }
    if (exporter !== undefined && flags.pushgateway !== undefined) {
      const { MetricsPusher } = await import('../metrics/pushgateway.js');
      this.#pusher = new MetricsPusher({
        url: flags.pushgateway,
        registry: exporter.registry,
        instance: flags.pushInstance,
        scenario: this.#context.scenario,
        intervalMs: flags.pushIntervalMs,
      });
      this.#pusher.start();
      if (this.#context.verbose) {
        io.stderr.write(
          `churn: pushing to ${flags.pushgateway} every ${formatDurationMs(flags.pushIntervalMs)} (job churn, instance ${flags.pushInstance}, scenario ${this.#context.scenario})\n`,
        );
      }
    }
    this.#sampler.start();
  }

  /** Observers to attach to the run's recorder (the exporter, when metrics are exported). */
  get observers(): readonly RecorderObserver[] {
    return this.#exporter === undefined ? [] : [this.#exporter];
  }

  /** The bound /metrics address, when serving. */
  get url(): string | undefined {
    return this.#server?.url;
  }

  /** `driver`, reporting its connection to the exporter and the sampler. */
  observe(driver: Driver): Driver {
    return new ConnectObserver(
      driver,
      (info) => this.#connected(info),
      () => this.#sampler.trackCall(),
    );
  }

  /** The runner's live status: while the runtime is unreachable, `churn_target_up` reads 0. */
  live(status: LiveStatus): void {
    this.#exporter?.setReachable(status.unreachableForMs === 0);
  }

  #connected(info: RuntimeInfo): void {
    // The run's loop lag counts from here: starting churn and its runtime delays no cycle.
    this.#sampler.restartHarnessRun();
    this.#exporter?.setRuntime({
      runtime: info.runtimeName,
      runtimeVersion: info.runtimeVersion,
      handler: info.runtimeHandler,
    });
    if (this.#explicitTarget || info.pid === undefined) return;
    this.#sampler.setTarget(
      info.pid === process.pid
        ? { source: 'self', name: 'churn' }
        : { source: 'driver', pid: info.pid, name: info.runtimeName },
    );
    void this.#sampler.sample();
  }

  /**
   * The run has ended: marks it inactive, takes the last sample, pushes the final values (and
   * deletes the group when asked). Never throws; what failed is in the warnings.
   */
  async finish(): Promise<RunMetricsResult> {
    if (this.#finished !== undefined) return this.#finished;
    this.#exporter?.setActive(false);
    await this.#sampler.stop();
    const harness = this.#sampler.harnessRun();
    const warnings: string[] = [];
    if (this.#pusher !== undefined) {
      const push = await this.#pusher.finish({ deleteAfter: this.#flags.pushDelete });
      if (push.finalError !== undefined) {
        warnings.push(
          `Pushgateway ${this.#flags.pushgateway ?? ''}: the final push failed: ${push.finalError}`,
        );
      } else if (push.failed > 0) {
        warnings.push(
          `Pushgateway ${this.#flags.pushgateway ?? ''}: ${push.failed} of ${push.pushed + push.failed} pushes failed during the run (the final one succeeded); last failure: ${this.#pusher.failures.last ?? ''}`,
        );
      }
    }
    this.#finished = { resources: this.#sampler.series(), harness, warnings };
    return this.#finished;
  }

  /**
   * The resource series and churn's own figures so far, for a checkpoint: the sampler goes
   * on, nothing is pushed or stopped.
   */
  progress(): Pick<RunMetricsResult, 'resources' | 'harness'> {
    return { resources: this.#sampler.series(), harness: this.#sampler.harnessRun() };
  }

  /** churn's event-loop lag p99 over the run so far (stall-corrected), ms. */
  harnessLagP99Ms(): number {
    return this.#sampler.harnessRun().lagP99Ms;
  }

  /** The target's pid at the latest sample (it follows a daemon's restart), if any. */
  targetPid(): number | undefined {
    return this.#sampler.latest?.target?.pid;
  }

  /** The target's growth from clock time `sinceMs` to the latest sample (metrics/trend.ts). */
  targetTrend(sinceMs: number): TargetTrend | undefined {
    return targetTrend(this.#sampler.series(), sinceMs);
  }

  /**
   * Keeps /metrics up for `--metrics-linger` after the run, so the last scrape sees the final
   * values; a stop signal (Ctrl-C) ends the wait at once. No-op without a server.
   */
  async linger(): Promise<void> {
    const server = this.#server;
    const lingerMs = this.#flags.lingerMs;
    if (server === undefined || lingerMs <= 0) return;
    const { io, clock } = this.#context;
    if (this.#context.verbose) {
      io.stderr.write(
        `churn: serving the final metrics at ${server.url} for ${formatDurationMs(lingerMs)} (Ctrl-C to stop now)\n`,
      );
    }
    const stop = new AbortController();
    const unsubscribe = io.onStopSignal(() => stop.abort());
    try {
      await clock.sleep(lingerMs, stop.signal);
    } catch {
      // Stopped early.
    } finally {
      unsubscribe();
    }
  }

  /** Stops everything still running (idempotent). */
  async close(): Promise<void> {
    await this.#sampler.stop().catch(() => undefined);
    this.#pusher?.stop();
    const server = this.#server;
    this.#server = undefined;
    await server?.close();
  }
}
