/**
 * The A/A campaign: does `churn compare` stay quiet between identical runs, and name exactly
 * one cause for a known change? Against the built-in core (real `churn run`s of the built
 * CLI, dist/):
 *
 * - **A/A**: `pairs` pairs of identical runs, every pair two fresh runs (no run is reused
 *   across pairs); a pair is *flagged* when its comparison has any verdict (regression or
 *   improvement). The property: at most `maxFlaggedPairs` (1 of 20) flagged.
 * - **+40 ms on start**: `slowerPairs` pairs of a plain run against a run whose scenario
 *   injects 40 ms (no spread) into every `start`. The property: `start`'s latency is flagged
 *   as a regression, and every verdict is on `start` latency or `cycle` (latency, and
 *   throughput: a closed loop runs every step at the cycle rate) — no other operation. A
 *   verdict on another operation is a false alarm, like a flag in an identical pair, and
 *   counts against the same budget: at most `maxFlaggedPairs` pairs of all with a false alarm.
 *
 * The two runs of a pair run at the same time, so whatever else loads the machine loads both
 * alike (a paired design); pairs run one after another. On a loaded machine a run's own event
 * loop may lag past the harness-bound bound (integrity.maxHarnessLagP99): the campaign's
 * scenario allows that mark (`integrity.allow: [harness-bound]`, so such a run exits 0), and
 * counts the pairs with a marked run (`harnessBoundPairs`): the property is about compare's
 * verdicts on whatever the two runs measured alike. Report interval `intervalMs`, so a run
 * of `durationMs` gives durationMs / intervalMs samples per side.
 *
 * Open loop by default (`ratePerSec` Poisson arrivals, see scenarioText): both runs then do the same work per
 * second, and +40 ms of sleep in `start` changes nothing else. In a closed loop (`--concurrency
 * N`) a slower `start` also lowers the cycle rate, so the host is less busy and the other
 * steps really get faster: on this project's 2-core machine at concurrency 2, `stop` p50 and
 * mean came out as improvements (a true effect of less load, not a false alarm of compare).
 * With `--concurrency` the +40 ms may also flag `cycle` throughput (judged on cycle only).
 *
 * By hand (the full campaign, about 20 × 12 s + 12 s on an idle 2-core machine):
 *
 *   npm run build && npx tsx scripts/aa-campaign.ts [--pairs 20] [--duration 10s]
 *     [--rate 10 | --concurrency 2] [--slower-pairs 1] [--out aa.json]
 *
 * prints one line per pair and a summary, writes the result as JSON with --out, and exits 1
 * when a property does not hold. test/integration/aa-campaign.test.ts runs a short version.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareReports, type Comparison } from '../src/report/compare/compare.js';
import { readReport } from '../src/report/read.js';

/** Path of the built CLI the campaign runs. */
export const builtChurn = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/** Options of {@link runAaCampaign}. */
export interface AaOptions {
  /** Identical pairs. Default 20. */
  readonly pairs?: number;
  /** Pairs with +`startExtraMs` on start in the candidate. Default 1. */
  readonly slowerPairs?: number;
  /** Length of each run, ms. Default 10 000. */
  readonly durationMs?: number;
  /**
   * Open-loop arrivals per second (uniform). Default 10. Ignored when `concurrency` is set.
   */
  readonly ratePerSec?: number;
  /** Closed-loop workers instead of an open loop (see the module comment). */
  readonly concurrency?: number | null;
  /** Report interval, ms (one sample per interval per side). Default 250. */
  readonly intervalMs?: number;
  /** Latency injected into start in the slower runs, ms. Default 40. */
  readonly startExtraMs?: number;
  /** Most identical pairs that may be flagged. Default 1. */
  readonly maxFlaggedPairs?: number;
  /** Called after each pair (progress). */
  readonly onPair?: (pair: AaPair) => void;
}

/** One compared pair. */
export interface AaPair {
  readonly kind: 'a/a' | 'slower';
  readonly index: number;
  /** `op statistic verdict` of every row with a verdict. */
  readonly flagged: readonly string[];
  /** Wall time of the pair (both runs and the comparison), ms. */
  readonly elapsedMs: number;
  /** The marks of either run (`harness-bound`), as compare lists them; [] for none. */
  readonly marks: readonly string[];
}

/** The campaign's outcome. */
export interface AaResult {
  readonly options: Required<Omit<AaOptions, 'onPair'>>;
  readonly pairs: readonly AaPair[];
  /** Identical pairs with any verdict. */
  readonly flaggedPairs: number;
  /** Pairs with a run marked harness-bound (allowed; see the module comment). */
  readonly harnessBoundPairs: number;
  /** Slower pairs in which `start` latency was a regression. */
  readonly slowerFound: number;
  /** Verdicts in slower pairs on anything but start latency and cycle. */
  readonly strayVerdicts: readonly string[];
  /**
   * Pairs with a false alarm: identical pairs with any verdict, and slower pairs with a stray
   * verdict. Every pair is one chance of a false alarm, so the budget (`maxFlaggedPairs`) is
   * shared: a stray verdict in a slower pair is the same event as a flag in an identical pair.
   */
  readonly falseAlarmPairs: number;
  /** Every property held. */
  readonly ok: boolean;
  readonly elapsedMs: number;
}

const latencyStatistics = new Set(['p50', 'p90', 'p99', 'p999', 'mean']);

/** A verdict the +40 ms on start may cause: start latency, cycle latency or throughput. */
export function expectedForSlowerStart(op: string, statistic: string): boolean {
  if (op === 'start') return latencyStatistics.has(statistic);
  if (op === 'cycle') return latencyStatistics.has(statistic) || statistic === 'throughput';
  return false;
}

function scenarioText(o: Required<Omit<AaOptions, 'onPair'>>, startExtraMs: number): string {
  return [
    'name: aa-campaign',
    'description: A/A property of churn compare (scripts/aa-campaign.ts)',
    'workload:',
    "  command: [sleep, '3600']",
    'load:',
    o.concurrency === null
      ? `  phases: [{ duration: ${o.durationMs}ms, arrivalRate: ${o.ratePerSec} }]`
      : `  phases: [{ duration: ${o.durationMs}ms, concurrency: ${o.concurrency} }]`,
    // Uniform arrivals of two runs started together stay phase-locked for the whole run (one
    // run's run_pod always meeting the other's stop): a real, systematic difference between
    // the two that compare rightly flags (2 of the first 10 pairs did). Poisson arrivals, each
    // run with its own random seed, meet at random.
    ...(o.concurrency === null ? ['  arrivals: poisson'] : []),
    ...(startExtraMs > 0
      ? ['faults:', `  start: { latency: { mean: ${startExtraMs}ms, stddev: 0ms } }`]
      : []),
    'integrity:',
    '  allow: [harness-bound]',
    'report:',
    '  dir: reports',
    `  interval: ${o.intervalMs}ms`,
    '',
  ].join('\n');
}

/** Runs `churn run FILE --quiet` in `cwd`; resolves with the report path. */
function churnRun(file: string, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [builtChurn, 'run', file, '--quiet'], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(out.trim());
      else reject(new Error(`churn run ${file} exited ${String(code)}: ${err.trim()}`));
    });
  });
}

function flaggedRows(c: Comparison): string[] {
  return c.rows.filter((r) => r.verdict !== '~').map((r) => `${r.op} ${r.statistic} ${r.verdict}`);
}

/** Runs the campaign; see the module comment. Throws when a run fails. */
export async function runAaCampaign(options: AaOptions = {}): Promise<AaResult> {
  const o = {
    pairs: options.pairs ?? 20,
    slowerPairs: options.slowerPairs ?? 1,
    durationMs: options.durationMs ?? 10_000,
    ratePerSec: options.ratePerSec ?? 10,
    concurrency: options.concurrency ?? null,
    intervalMs: options.intervalMs ?? 250,
    startExtraMs: options.startExtraMs ?? 40,
    maxFlaggedPairs: options.maxFlaggedPairs ?? 1,
  };
  const began = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'churn-aa-'));
  try {
    await writeFile(join(dir, 'base.yaml'), scenarioText(o, 0));
    await writeFile(join(dir, 'slower.yaml'), scenarioText(o, o.startExtraMs));
    const pairs: AaPair[] = [];
    const comparePair = async (
      kind: AaPair['kind'],
      index: number,
      candidateFile: string,
    ): Promise<void> => {
      const t0 = Date.now();
      const [a, b] = await Promise.all([churnRun('base.yaml', dir), churnRun(candidateFile, dir)]);
      const c = compareReports(
        [{ report: await readReport(a), source: a }],
        [{ report: await readReport(b), source: b }],
      );
      const marks = [...new Set([...c.base, ...c.candidate].flatMap((r) => r.marks))];
      const pair = { kind, index, flagged: flaggedRows(c), elapsedMs: Date.now() - t0, marks };
      pairs.push(pair);
      options.onPair?.(pair);
    };
    for (let i = 0; i < o.pairs; i++) await comparePair('a/a', i, 'base.yaml');
    for (let i = 0; i < o.slowerPairs; i++) await comparePair('slower', i, 'slower.yaml');

    const aa = pairs.filter((p) => p.kind === 'a/a');
    const slower = pairs.filter((p) => p.kind === 'slower');
    const flaggedPairs = aa.filter((p) => p.flagged.length > 0).length;
    const slowerFound = slower.filter((p) =>
      p.flagged.some((f) => /^start (p50|p90|p99|p999|mean) regression$/.test(f)),
    ).length;
    const strays = (p: AaPair): string[] =>
      p.flagged.filter((f) => {
        const [op, statistic] = f.split(' ');
        return !expectedForSlowerStart(op!, statistic!);
      });
    const strayVerdicts = slower.flatMap(strays);
    const falseAlarmPairs = flaggedPairs + slower.filter((p) => strays(p).length > 0).length;
    return {
      options: o,
      pairs,
      flaggedPairs,
      harnessBoundPairs: pairs.filter((p) => p.marks.length > 0).length,
      slowerFound,
      strayVerdicts,
      falseAlarmPairs,
      ok: falseAlarmPairs <= o.maxFlaggedPairs && slowerFound === slower.length,
      elapsedMs: Date.now() - began,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function parseArgs(argv: readonly string[]): AaOptions & { out?: string } {
  const out: { -readonly [K in keyof AaOptions]: AaOptions[K] } & { out?: string } = {};
  const count = (flag: string, text: string | undefined): number => {
    if (text === undefined || !/^\d+$/.test(text)) throw new Error(`${flag}: give a whole number`);
    return Number(text);
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[++i];
    switch (flag) {
      case '--pairs':
        out.pairs = count(flag, value);
        break;
      case '--slower-pairs':
        out.slowerPairs = count(flag, value);
        break;
      case '--concurrency':
        out.concurrency = count(flag, value);
        break;
      case '--rate':
        out.ratePerSec = count(flag, value);
        break;
      case '--duration': {
        const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(value ?? '');
        if (m === null) throw new Error(`--duration: "${value ?? ''}" is not a duration like 10s`);
        out.durationMs = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
        break;
      }
      case '--out':
        if (value === undefined) throw new Error('--out: give a file');
        out.out = value;
        break;
      default:
        throw new Error(
          `unknown flag ${flag}: use --pairs, --slower-pairs, --duration, --rate, --concurrency, --out`,
        );
    }
  }
  return out;
}

async function main(): Promise<void> {
  const { out, ...options } = parseArgs(process.argv.slice(2));
  const result = await runAaCampaign({
    ...options,
    onPair: (p) =>
      console.log(
        `${p.kind.padEnd(6)} ${String(p.index + 1).padStart(2)}  ${(p.elapsedMs / 1000).toFixed(1)}s  ${p.flagged.length === 0 ? '~' : p.flagged.join(', ')}${p.marks.length === 0 ? '' : `  [${p.marks.join(', ')}]`}`,
      ),
  });
  const aa = result.pairs.filter((p) => p.kind === 'a/a').length;
  const slower = result.pairs.length - aa;
  console.log(
    `A/A: ${result.flaggedPairs} of ${aa} pairs flagged; ` +
      `+${result.options.startExtraMs}ms on start: start flagged in ${result.slowerFound} of ${slower}, ` +
      `${result.strayVerdicts.length === 0 ? 'no other verdict' : `other verdicts: ${result.strayVerdicts.join(', ')}`}; ` +
      `${result.falseAlarmPairs} of ${result.pairs.length} pairs with a false alarm (at most ${result.options.maxFlaggedPairs} allowed); ` +
      `${result.harnessBoundPairs} pairs with a harness-bound run; ` +
      `${(result.elapsedMs / 1000).toFixed(0)} s in all → ${result.ok ? 'ok' : 'FAILED'}`,
  );
  if (out !== undefined) await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  process.exitCode = result.ok ? 0 : 1;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 2;
  });
}
