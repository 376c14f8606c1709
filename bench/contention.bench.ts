/**
 * The harness's health under load, on the real CLI (`node dist/cli/main.js run
 * scenarios/smoke.yaml … --metrics-port P`, built first) driving the built-in core (issue 10):
 *
 *   closed loop, 8 workers · closed loop, 64 workers · open loop, 500 cycles/s
 *
 * each run once alone and once with a CPU hog (one busy-looping process per core, see
 * cpu-hog.ts) competing for the cores, for `--duration` (at least 10 s: fewer scrapes would
 * make the p99 only the max of a handful). Per run:
 *
 *   /metrics scrape p99   a scrape started every 250 ms from this process, answered or not (10 s
 *                         timeout, Prometheus's default; a timeout counts as 10 s), over the
 *                         scrapes that started between the report's run start and end.
 *                         Goal ≤ 50 ms.
 *   harness loop lag p99  from the run's report: `harness.lagP99Ms` when the report has it,
 *                         else the peak of `resources.points[].eventLoopLagP99Ms` (the p99 over
 *                         the last 60 s, so over the whole of a run this short). Goal ≤ 20 ms.
 *   cycles/s              successful cycles per second of recorded time (report
 *                         `operations.cycle.throughputPerSec`), and per load the ratio with the
 *                         hog to without it, from the same bench run.
 *
 * With the core's work on the harness's event loop (before issue 10's fix) both goals are
 * missed by seconds, with the hog or without.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Report } from '../src/report/schema.js';
import type { BenchContext, BenchRecord } from './bench-types.js';
import { startCpuHog, type CpuHog } from './cpu-hog.js';
import { percentile, startScraper, type Scrape } from './metrics-scraper.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const churnBin = join(repoRoot, 'dist/cli/main.js');
const scenarioPath = join(repoRoot, 'scenarios/smoke.yaml');

const scrapeEveryMs = 250;
/** Prometheus's default scrape timeout. */
const scrapeTimeoutMs = 10_000;
/** The shortest run per configuration, ms. */
const minDurationMs = 10_000;
/** How long past its planned duration a run may take to drain, clean up and exit, ms. */
const exitGraceMs = 120_000;

const scrapeGoal = {
  atMost: 50,
  why: '/metrics answers within 50 ms whatever the load (issue 10)',
};
const lagGoal = {
  atMost: 20,
  why: "churn's event loop lag p99 within 20 ms whatever the load (issue 10)",
};

/** One load of the bench, as `churn run` flags. */
interface Load {
  readonly label: string;
  readonly flags: readonly string[];
}

const loads: readonly Load[] = [
  { label: 'closed loop 8', flags: ['--concurrency', '8'] },
  { label: 'closed loop 64', flags: ['--concurrency', '64'] },
  { label: 'open loop 500/s', flags: ['--rate', '500'] },
];

/** The report's health figures: `harness` is the shared contract of issue 10, absent before it. */
type HealthReport = Report & {
  readonly harness?: { readonly lagP99Ms: number; readonly lagMaxMs: number } | null;
};

/** What one run measured. */
interface RunFigures {
  readonly scrapeP99Ms: number;
  readonly scrapeP50Ms: number;
  readonly scrapeMaxMs: number;
  readonly scrapes: number;
  readonly scrapeFailures: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  readonly lagSource: string;
  readonly cyclesPerSec: number;
  readonly cyclesSucceeded: number;
  readonly cyclesFailed: number;
  readonly dropped: number;
  readonly exitCode: number;
}

/** A free TCP port on loopback. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Stops a churn run that is still going as Ctrl-C twice would (it cleans up), then kills it. */
async function stopChurn(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  if (!running()) return;
  child.kill('SIGINT');
  await sleep(300);
  child.kill('SIGINT');
  await Promise.race([exited, sleep(15_000, undefined, { ref: false })]);
  if (running()) child.kill('SIGKILL');
}

/** Runs `churn run` once with `load` for `durationMs`, scraping it, and reads its report. */
async function measure(load: Load, durationMs: number, reportDir: string): Promise<RunFigures> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      churnBin,
      'run',
      scenarioPath,
      ...load.flags,
      '--duration',
      `${durationMs}ms`,
      '--metrics-port',
      String(port),
      '--metrics-linger',
      '0',
      '--report-dir',
      reportDir,
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? -1 : 128))),
  );
  // If this process exits first, the run is asked to stop (and then cleans up after itself).
  const onExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
  };
  process.on('exit', onExit);
  const scraper = startScraper({
    url: `http://127.0.0.1:${port}/metrics`,
    everyMs: scrapeEveryMs,
    timeoutMs: scrapeTimeoutMs,
  });
  let exitCode: number | undefined;
  let scrapes: Scrape[];
  try {
    // Unref'd: a pending deadline must not keep `npm run bench` alive once its results are out.
    exitCode = await Promise.race([
      exited,
      sleep(durationMs + exitGraceMs, undefined, { ref: false }).then(() => undefined),
    ]);
  } finally {
    scrapes = await scraper.stop();
    await stopChurn(child, exited);
    process.off('exit', onExit);
  }
  const path = /^report: (.+)$/m.exec(stdout)?.[1];
  if (exitCode === undefined || path === undefined) {
    throw new Error(
      `churn run ${load.flags.join(' ')} ${exitCode === undefined ? 'did not exit in time' : `exited ${exitCode} with no report`}: ${stderr.slice(-2000)}`,
    );
  }
  const report = JSON.parse(await readFile(path, 'utf8')) as HealthReport;
  return figuresOf(report, scrapes, exitCode);
}

/** The figures of a run from its report and the scrapes made during it. */
function figuresOf(report: HealthReport, scrapes: readonly Scrape[], exitCode: number): RunFigures {
  const fromMs = Date.parse(report.run.start);
  const toMs = Date.parse(report.run.end);
  const during = scrapes.filter((s) => s.startedAtMs >= fromMs && s.startedAtMs <= toMs);
  const took = during.map((s) => s.tookMs);
  const points = report.resources?.points ?? [];
  const harness = report.harness ?? undefined;
  return {
    scrapeP99Ms: percentile(took, 99),
    scrapeP50Ms: percentile(took, 50),
    scrapeMaxMs: maxOf(took),
    scrapes: during.length,
    scrapeFailures: during.filter((s) => !s.ok).length,
    lagP99Ms: harness?.lagP99Ms ?? maxOf(points.map((p) => p.eventLoopLagP99Ms)),
    lagMaxMs: harness?.lagMaxMs ?? maxOf(points.map((p) => p.eventLoopLagMaxMs)),
    lagSource: harness !== undefined ? 'report.harness' : 'report.resources.points',
    cyclesPerSec: report.operations.cycle?.throughputPerSec ?? 0,
    cyclesSucceeded: report.cycles.succeeded,
    cyclesFailed: report.cycles.failed,
    dropped: report.cycles.dropped,
    exitCode,
  };
}

/** Builds dist/, so the bench runs the CLI of the code checked out. */
async function buildDist(ctx: BenchContext): Promise<void> {
  ctx.log('building dist/ (the bench runs the real CLI)');
  await promisify(execFile)('npm', ['run', 'build', '--silent'], {
    cwd: repoRoot,
    maxBuffer: 16 * 1024 * 1024,
  });
}

/** The largest of `values`; NaN when there are none. */
function maxOf(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.max(...values);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** The bench; see the module comment. */
export default async function contentionBench(ctx: BenchContext): Promise<BenchRecord[]> {
  await buildDist(ctx);
  const durationMs = Math.max(minDurationMs, ctx.durationMs);
  const hogs = availableParallelism();
  const tmp = await mkdtemp(join(tmpdir(), 'churn-bench-contention-'));
  const records: BenchRecord[] = [];
  try {
    for (const load of loads) {
      const byHog = new Map<boolean, RunFigures>();
      for (const withHog of [false, true]) {
        const name = `${load.label}, ${withHog ? `CPU hog ×${hogs}` : 'no hog'}`;
        ctx.log(`${name}: ${durationMs / 1000} s`);
        let hog: CpuHog | undefined;
        let figures: RunFigures;
        try {
          if (withHog) {
            hog = await startCpuHog(hogs);
            await sleep(500);
          }
          figures = await measure(load, durationMs, join(tmp, String(records.length)));
        } finally {
          await hog?.stop();
        }
        byHog.set(withHog, figures);
        ctx.log(
          `${name}: scrape p99 ${round(figures.scrapeP99Ms)} ms (p50 ${round(figures.scrapeP50Ms)}, max ${round(figures.scrapeMaxMs)}, ${figures.scrapes} scrapes, ${figures.scrapeFailures} failed), ` +
            `loop lag p99 ${round(figures.lagP99Ms)} ms (max ${round(figures.lagMaxMs)}), ${round(figures.cyclesPerSec)} cycles/s, exit ${figures.exitCode}`,
        );
        const details = {
          durationMs,
          hogProcesses: withHog ? hogs : 0,
          exitCode: figures.exitCode,
        };
        records.push(
          {
            name: `${name}: /metrics scrape p99`,
            value: figures.scrapeP99Ms,
            unit: 'ms',
            goal: scrapeGoal,
            ...details,
            scrapes: figures.scrapes,
            failed: figures.scrapeFailures,
            p50Ms: round(figures.scrapeP50Ms),
            maxMs: round(figures.scrapeMaxMs),
          },
          {
            name: `${name}: harness loop lag p99`,
            value: figures.lagP99Ms,
            unit: 'ms',
            goal: lagGoal,
            ...details,
            maxMs: round(figures.lagMaxMs),
            source: figures.lagSource,
          },
          {
            name: `${name}: cycles/s`,
            value: figures.cyclesPerSec,
            unit: 'cycles/s',
            ...details,
            succeeded: figures.cyclesSucceeded,
            failed: figures.cyclesFailed,
            dropped: figures.dropped,
          },
        );
        await sleep(1000);
      }
      const alone = byHog.get(false)!;
      const contended = byHog.get(true)!;
      records.push({
        name: `${load.label}: cycles/s with the hog / without`,
        value: contended.cyclesPerSec / alone.cyclesPerSec,
        unit: 'ratio',
        withHog: round(contended.cyclesPerSec),
        withoutHog: round(alone.cyclesPerSec),
      });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return records;
}
