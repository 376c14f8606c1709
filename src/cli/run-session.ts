/**
 * What `churn run` does once its flags are parsed: scenario → driver → runner → report →
 * exit code. Glue only; each step is a part of churn with its own tests.
 *
 * Stopping: the first SIGINT/SIGTERM stops scheduling and drains in-flight cycles (within the
 * scenario's drainTimeout), the second cuts them off at once. Cleanup of what the run created
 * always runs, and the report is always written, marked partial when the run did not complete.
 *
 * Metrics (metrics-session.ts): resources are sampled for the report in every run; with
 * --metrics-port or --pushgateway the recorder also feeds the Prometheus exporter. The final
 * push happens before the report is built (its failures become report warnings), and /metrics
 * lingers after the summary is printed, unless a stop signal ended the run.
 *
 * Start-up: what a run needs only at its end (the report builder and its zod schema, the
 * terminal summary), only with a flag (the baseline comparison) or only for one driver (each
 * driver's module, drivers/registry.ts) is imported when it is needed, not when churn starts:
 * loading modules is most of churn's CPU before its first cycle (docs/performance.md).
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { systemClock } from '../common/clock.js';
import { randomHexId } from '../common/random-id.js';
import { checkDriverTarget, createDriver } from '../drivers/registry.js';
import { planRun } from '../load/phases.js';
import { runScenario, type RunResult } from '../load/runner.js';
import type { ThresholdResult } from '../load/threshold-eval.js';
import { procfs } from '../metrics/procfs.js';
import { Recorder } from '../metrics/recorder.js';
import type { LocatedReport } from '../report/locate.js';
import { collectHostInfo, type HostInfo } from '../report/host-info.js';
import { formatThresholdActual } from '../report/render/format.js';
import type { Report } from '../report/schema.js';
import { reportPath, writeReport } from '../report/store.js';
import { markMessages } from '../report/verdicts.js';
import { defaultScenario } from '../scenario/default-scenario.js';
import { loadScenarioFile } from '../scenario/load.js';
import type { ScenarioOverrides } from '../scenario/overrides.js';
import type { Scenario } from '../scenario/schema.js';
import { formatDurationHuman } from '../scenario/units.js';
import { ExitCode, exitCodeForSignal } from './exit-codes.js';
import { churnGitCommit } from './git-commit.js';
import type { CliIo, StopSignalName } from './io.js';
import { metricsFlagsFromArgs, RunMetrics, type MetricsFlags } from './metrics-session.js';
import { renderPlan } from './plan-render.js';
import { progressLine, StatusPrinter } from './status-line.js';
import { useColor } from './color.js';
import { churnVersion } from './version.js';

/** How `churn run` was asked to behave. */
export interface RunSessionOptions {
  /** Scenario file; the built-in smoke scenario when undefined. */
  readonly scenarioPath: string | undefined;
  readonly overrides: ScenarioOverrides;
  /** Print the resolved plan and stop. */
  readonly dryRun: boolean;
  /** Output mode: human (status line, summary), quiet (report path only), json (the report). */
  readonly output: 'human' | 'quiet' | 'json';
  /** Run id; random when undefined. */
  readonly runId: string | undefined;
  /** Write the live status to stderr as JSON lines (`--progress-json`). */
  readonly progressJson?: boolean;
  /** Wall-clock instant the phases begin at (`--start-at`), ms since the epoch. */
  readonly startAtWallMs?: number;
  /** /metrics, Pushgateway and resource sampling; defaults (no export, sampling) when undefined. */
  readonly metrics?: MetricsFlags;
  /** Compare the finished run with this baseline and exit 1 on a regression. */
  readonly baseline?:
    | {
        /** `latest`, a tag or a report file. */
        readonly ref: string;
        readonly alpha: number;
        readonly minEffectPct: number;
      }
    | undefined;
}

/** Runs one scenario as `churn run` does; returns the exit code. */
export async function runSession(options: RunSessionOptions, io: CliIo): Promise<number> {
  const scenario = await loadScenario(options, io);
  checkDriverTarget(scenario.target);
  const plan = planRun(scenario.load);
  if (options.dryRun) {
    if (options.output === 'json')
      io.stdout.write(`${JSON.stringify({ scenario, plan }, null, 2)}\n`);
    else io.stdout.write(renderPlan(scenario, plan, loadFlagsOf(options.overrides)));
    return ExitCode.ok;
  }

  const reportDir = isAbsolute(scenario.report.dir)
    ? scenario.report.dir
    : resolve(io.cwd, scenario.report.dir);
  // The baseline is found and checked (readable, same scenario and load) before hours of soak
  // run; null: `latest` with no earlier complete run yet. The comparison's code (the report
  // reader, its schema, the statistics) is loaded only when a baseline is asked for.
  let baseline: LocatedReport | null | undefined;
  if (options.baseline !== undefined) {
    const { resolveBaseline } = await import('../report/compare/baseline.js');
    baseline =
      (await resolveBaseline({
        ref: options.baseline.ref,
        scenario,
        scenarioSource: options.scenarioPath ?? 'the built-in smoke scenario',
        reportDir,
        cwd: io.cwd,
        nowMs: systemClock.wallNowMs(),
      })) ?? null;
  }

  const runId = options.runId ?? randomHexId(6);
  const metrics = await RunMetrics.start(options.metrics ?? metricsFlagsFromArgs({}), {
    scenario: scenario.name,
    driver: scenario.target.driver,
    runId,
    churnVersion: churnVersion(),
    clock: systemClock,
    io,
    verbose: options.output === 'human',
  });
  try {
    return await runWithMetrics(options, io, scenario, reportDir, runId, metrics, baseline);
  } finally {
    await metrics.close();
  }
}

async function runWithMetrics(
  options: RunSessionOptions,
  io: CliIo,
  scenario: Scenario,
  reportDir: string,
  runId: string,
  metrics: RunMetrics,
  baseline: LocatedReport | null | undefined,
): Promise<number> {
  // The built-in core's temporary state dir is made here, so the run can name it: after a
  // kill -9 of churn and its core, `churn cleanup --driver builtin --all` finds it.
  const temporaryStateDir =
    scenario.target.driver === 'builtin' && scenario.target.stateDir === undefined
      ? await (await import('../drivers/builtin.js')).makeTemporaryStateDir()
      : undefined;
  const driver = metrics.observe(
    await createDriver(scenario.target, {
      faults: scenario.faults,
      seed: scenario.seed,
      ...(temporaryStateDir !== undefined ? { temporaryStateDir } : {}),
    }),
  );
  const recorder = new Recorder({
    clock: systemClock,
    intervalMs: scenario.report.intervalMs,
    observers: metrics.observers,
  });
  const stop = new AbortController();
  const cut = new AbortController();
  let stoppedBy: StopSignalName | undefined;
  const unsubscribe = io.onStopSignal((signal) => {
    if (stoppedBy === undefined) {
      stoppedBy = signal;
      if (options.output === 'human') {
        io.stderr.write(
          `\n${signal}: stopping — draining in-flight cycles (${signal} again cuts them off)\n`,
        );
      }
      stop.abort();
    } else {
      cut.abort();
    }
  });
  const status =
    options.output === 'human' ? new StatusPrinter(io.stderr, () => systemClock.now()) : undefined;
  // The host's facts are read once, at the first checkpoint or at the end.
  let hostInfo: Promise<HostInfo> | undefined;
  const host = (): Promise<HostInfo> =>
    (hostInfo ??= churnGitCommit().then((commit) => collectHostInfo(churnVersion(), commit)));
  const checkpoints = { written: 0 };

  let result: RunResult;
  try {
    if (options.output === 'human') {
      io.stderr.write(
        `churn ${churnVersion()} · scenario ${scenario.name} · driver ${scenario.target.driver}` +
          `${scenario.target.driver === 'cri' ? ` ${scenario.target.endpoint}` : scenario.target.driver === 'containerd' ? ` ${scenario.target.address}` : ''} · run ${runId}\n` +
          (temporaryStateDir !== undefined
            ? `core state ${temporaryStateDir} (temporary, removed at the end)\n`
            : '') +
          (scenario.report.checkpointIntervalMs > 0
            ? `checkpoint every ${formatDurationHuman(scenario.report.checkpointIntervalMs)} to the report's path under ${reportDir} (replaced by the final report)\n`
            : ''),
      );
    }
    result = await runScenario({
      scenario,
      driver,
      recorder,
      clock: systemClock,
      runId,
      signal: stop.signal,
      cutSignal: cut.signal,
      harnessLagP99Ms: () => metrics.harnessLagP99Ms(),
      ...(options.startAtWallMs !== undefined ? { startAtWallMs: options.startAtWallMs } : {}),
      leakHost: {
        proc: procfs,
        targetPid: () => metrics.targetPid(),
        readFile: (path) => readFile(path, 'utf8').catch(() => undefined),
      },
      targetTrend: (sinceMs) => metrics.targetTrend(sinceMs),
      checkpoint: {
        intervalMs: scenario.report.checkpointIntervalMs,
        write: async (progress) => {
          const { writeCheckpointReport } = await import('../report/checkpoint-write.js');
          await writeCheckpointReport(reportDir, {
            outcome: progress,
            scenario,
            host: await host(),
            ...metrics.progress(),
          });
          checkpoints.written++;
        },
      },
      onStatus: (s) => {
        metrics.live(s);
        status?.update(s);
        if (options.progressJson === true) io.stderr.write(`${progressLine(s)}\n`);
      },
      ...(scenario.seed !== undefined ? { seed: scenario.seed } : {}),
    });
  } finally {
    unsubscribe();
    status?.finish();
    await driver.close();
  }

  const measured = await metrics.finish();
  if (unreachable(result)) {
    // Nothing ran, so there is nothing to report: the endpoint is bad input (exit 2).
    recorder.release();
    io.stderr.write(`churn: ${result.error.message}\n`);
    return ExitCode.badInput;
  }
  let report: Report;
  try {
    const { buildReport } = await import('../report/build.js');
    report = buildReport({
      outcome: { ...result, warnings: [...result.warnings, ...measured.warnings] },
      scenario,
      host: await host(),
      resources: measured.resources,
      harness: measured.harness,
    });
  } finally {
    recorder.release();
  }
  // A report that cannot be stored (a full disk, a read-only dir) must not take the run's
  // figures with it: the summary is still printed and the report goes to a fallback path.
  const stored = await storeReport(reportDir, report);
  if (stored.error !== undefined) {
    io.stderr.write(
      `churn: cannot write the report under ${reportDir}: ${stored.error}
` +
        (stored.path !== undefined
          ? `churn: the report was written to ${stored.path} instead
`
          : `churn: nor to the fallback ${fallbackReportDir()}: ${stored.fallbackError ?? ''}
`),
    );
  }
  const path = stored.path ?? '(not written)';
  if (checkpoints.written > 0 && stored.error !== undefined) {
    // The final report went elsewhere (or nowhere): the last checkpoint stays in the store,
    // marked as one; say where the figures of the whole run are.
    io.stderr.write(
      `churn: the store keeps the run's last checkpoint at ${reportPath(reportDir, report)}, marked partial; the whole run's figures are ${stored.path === undefined ? 'in the summary only' : `in ${stored.path}`}\n`,
    );
  }

  switch (options.output) {
    case 'json':
      io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      break;
    case 'human': {
      const { renderTerminalSummary } = await import('../report/render/terminal.js');
      io.stdout.write(renderTerminalSummary(report, { color: useColor(io, io.stdout) }));
      io.stdout.write(`\nreport: ${path}\n`);
      break;
    }
    case 'quiet':
      io.stdout.write(`${path}\n`);
      break;
  }
  let code = exitCodeOf(result, report, stoppedBy, scenario, io);
  // Not stored where asked: the run's results are not where its user will look (exit 3).
  if (stored.error !== undefined && code === ExitCode.ok) code = ExitCode.broken;
  if (options.baseline !== undefined && baseline !== undefined && code === ExitCode.ok) {
    const { gateOnBaseline } = await import('../report/compare/baseline.js');
    const gate = await gateOnBaseline({
      candidate: { report, path },
      // `latest` is chosen again now that the runtime is known (its name and handler come from
      // the runtime itself): a run of another runtime is no baseline.
      baseline: options.baseline.ref === 'latest' && baseline !== null ? 'latest' : baseline,
      reportDir,
      cwd: io.cwd,
      options: { alpha: options.baseline.alpha, minEffectPct: options.baseline.minEffectPct },
      color: useColor(io, io.stderr),
    });
    io.stderr.write(gate.text);
    if (gate.state === 'regression') {
      io.stderr.write(
        `churn: regression against the baseline ${gate.base.source} (alpha ${options.baseline.alpha}, min effect ${options.baseline.minEffectPct}%)\n`,
      );
    }
    code = gate.exitCode;
  }
  // A run stopped by SIGINT/SIGTERM was asked to stop: it does not linger.
  if (stoppedBy === undefined) await metrics.linger();
  return code;
}

/** Where a report goes when its report dir cannot take it. */
function fallbackReportDir(): string {
  return join(tmpdir(), 'churn-reports');
}

/** The outcome of {@link storeReport}. */
interface StoredOutcome {
  /** Where the report is, when it was written somewhere. */
  readonly path?: string;
  /** Why it could not be written under the report dir. */
  readonly error?: string;
  /** Why the fallback failed too. */
  readonly fallbackError?: string;
}

/** Writes the report under `dir`, else under {@link fallbackReportDir}. */
async function storeReport(dir: string, report: Report): Promise<StoredOutcome> {
  try {
    return { path: await writeReport(dir, report) };
  } catch (err) {
    const error = (err as Error).message;
    try {
      return { path: await writeReport(fallbackReportDir(), report), error };
    } catch (fallbackErr) {
      return { error, fallbackError: (fallbackErr as Error).message };
    }
  }
}

/** A run that never reached its runtime: the endpoint did not answer at the start. */
function unreachable(result: RunResult): result is Extract<RunResult, { state: 'broken' }> {
  return (
    result.state === 'broken' &&
    result.error.code === 'ENDPOINT_INVALID' &&
    result.runtime === undefined &&
    result.cycles.started === 0
  );
}

/**
 * Why an abortOnFail threshold stopped the run, its actual value written as the summary writes
 * it (`51.8%`, `1.23s`), over the sliding window it was evaluated on.
 */
export function abortedMessage(abortedBy: ThresholdResult, scenario: Scenario): string {
  const actual = formatThresholdActual({
    metric: abortedBy.metric,
    actual: abortedBy.actual ?? null,
  });
  const windowMs = scenario.thresholds.find(
    (t) => t.abortOnFail && t.expr.source === abortedBy.source,
  )?.windowMs;
  const over = windowMs === undefined ? '' : ` over the last ${formatDurationHuman(windowMs)}`;
  return `aborted: threshold "${abortedBy.source}" failed${over} (actual ${actual})`;
}

/** The flags given that change the file's load: its description no longer tells the plan. */
function loadFlagsOf(overrides: ScenarioOverrides): string[] {
  const flags: string[] = [];
  if (overrides.concurrency !== undefined) flags.push('--concurrency');
  if (overrides.rate !== undefined) flags.push('--rate');
  if (overrides.duration !== undefined) flags.push('--duration');
  if (overrides.iterations !== undefined) flags.push('--iterations');
  return flags;
}

async function loadScenario(options: RunSessionOptions, io: CliIo): Promise<Scenario> {
  if (options.scenarioPath === undefined) return defaultScenario(options.overrides);
  return loadScenarioFile(options.scenarioPath, options.overrides, { cwd: io.cwd });
}

/**
 * 3 broken · 130/143 stopped by a signal · 1 aborted, a threshold failed, a mark the scenario
 * does not allow (harness-bound, overloaded) or no cycle succeeded (a run whose every cycle
 * failed must not pass) · 0 otherwise. Every reason for a 1 is said on stderr.
 */
function exitCodeOf(
  result: RunResult,
  report: Report,
  stoppedBy: StopSignalName | undefined,
  scenario: Scenario,
  io: CliIo,
): number {
  switch (result.state) {
    case 'broken':
      io.stderr.write(`churn: the run broke: ${result.error.message}\n`);
      return ExitCode.broken;
    case 'interrupted':
      return exitCodeForSignal(stoppedBy ?? 'SIGINT');
    case 'aborted':
      io.stderr.write(`churn: ${abortedMessage(result.abortedBy, scenario)}\n`);
      return ExitCode.failed;
    case 'completed':
      break;
  }
  let code: number = ExitCode.ok;
  const failed = result.thresholds.filter((t) => !t.ok);
  if (failed.length > 0) {
    io.stderr.write(
      `churn: ${failed.length} threshold(s) failed: ${failed.map((t) => t.source).join('; ')}\n`,
    );
    code = ExitCode.failed;
  }
  for (const { mark, text } of markMessages(report)) {
    if (scenario.integrity.allow.includes(mark)) continue;
    io.stderr.write(`churn: ${text} (allow it with integrity.allow: [${mark}])\n`);
    code = ExitCode.failed;
  }
  if (result.cycles.succeeded === 0) {
    io.stderr.write(
      `churn: no cycle succeeded (${result.cycles.failed} failed): the runtime did not do the work\n`,
    );
    code = ExitCode.failed;
  }
  return code;
}
