/**
 * `npm run bench`: runs every bench/*.bench.ts (or those named on the command line), prints
 * the figures and writes them with the machine's description to bench/results/<time>.json and
 * bench/results/latest.json. Speed goals are checked here, never by timed asserts in tests: a
 * figure with a goal ({@link BenchGoal}) prints whether it met it, the JSON records `goalMet`,
 * and a missed goal makes the command exit 1 after everything ran and was written.
 *
 * Usage: npm run bench [-- [--duration 5s] [name…]]
 */
import { readdir, writeFile, mkdir } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { goalMet, type BenchGoal, type BenchModule, type BenchRecord } from './bench-types.js';

const benchDir = fileURLToPath(new URL('.', import.meta.url));

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let durationMs = 5000;
  const only: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--duration') {
      const text = args[++i] ?? '';
      const match = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(text);
      if (match === null) throw new Error(`--duration: "${text}" is not a duration like 5s`);
      durationMs = Number(match[1]) * (match[2] === 's' ? 1000 : 1);
    } else {
      only.push(arg);
    }
  }
  const files = (await readdir(benchDir)).filter((f) => f.endsWith('.bench.ts')).sort();
  const selected = files.filter(
    (f) => only.length === 0 || only.includes(basename(f, '.bench.ts')),
  );
  if (selected.length === 0) throw new Error(`no benchmark matches ${only.join(', ')}`);

  const results: Record<string, (BenchRecord & { goalMet?: boolean })[]> = {};
  const missed: string[] = [];
  const started = new Date();
  for (const file of selected) {
    const name = basename(file, '.bench.ts');
    process.stderr.write(`\n▶ ${name}\n`);
    const mod = (await import(pathToFileURL(join(benchDir, file)).href)) as {
      default: BenchModule;
    };
    const records = await mod.default({
      durationMs,
      log: (line) => process.stderr.write(`  ${line}\n`),
    });
    results[name] = records.map((r) => {
      const met = goalMet(r);
      return met === undefined ? r : { ...r, goalMet: met };
    });
    for (const r of records) {
      const { name: label, value, unit, goal, ...details } = r;
      const detail = Object.entries(details)
        .filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v))
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ');
      const met = goalMet(r);
      const verdict =
        goal === undefined
          ? ''
          : `  [goal ${describeGoal(goal, unit)}: ${met === true ? 'met' : 'MISSED'}]`;
      if (met === false)
        missed.push(
          `${name}: ${label} = ${fmt(value)} ${unit}, goal ${describeGoal(goal!, unit)} (${goal!.why})`,
        );
      process.stdout.write(
        `${name.padEnd(10)} ${label.padEnd(58)} ${fmt(value).padStart(14)} ${unit}${detail ? `  (${detail})` : ''}${verdict}\n`,
      );
    }
  }

  const out = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: {
      node: process.version,
      kernel: release(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cpuCount: cpus().length,
      memoryBytes: totalmem(),
      loadAverageAtStart: loadavg(),
    },
    durationMs,
    results,
  };
  const resultsDir = join(benchDir, 'results');
  await mkdir(resultsDir, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const path = join(resultsDir, `${stamp}.json`);
  const text = `${JSON.stringify(out, null, 2)}\n`;
  await writeFile(path, text);
  await writeFile(join(resultsDir, 'latest.json'), text);
  process.stdout.write(`\nresults: ${path}\n`);
  if (missed.length > 0) {
    process.stdout.write(
      `\ngoals missed (${missed.length}):\n${missed.map((m) => `  ${m}\n`).join('')}`,
    );
    process.exitCode = 1;
  }
}

function describeGoal(goal: BenchGoal, unit: string): string {
  const parts: string[] = [];
  if (goal.atLeast !== undefined) parts.push(`≥ ${fmt(goal.atLeast)} ${unit}`);
  if (goal.atMost !== undefined) parts.push(`≤ ${fmt(goal.atMost)} ${unit}`);
  return parts.join(' and ');
}

function fmt(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toPrecision(4);
}

await main();
// A bench that leaves a handle open must not hang `npm run bench` once its results are
// written: name what was left (for whoever fixes it), then exit.
setTimeout(() => {
  // Timers are resources too (_getActiveHandles leaves them out); stdio pipes are listed but
  // never keep the process alive.
  const left = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
  process.stderr.write(`bench: still open at the end: ${left.join(', ')}; exiting\n`);
  process.exit();
}, 2000).unref();
