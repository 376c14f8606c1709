/**
 * churn's start-up: its CPU (user + system, churn's process only) from its start to the first
 * cycle of `churn run scenarios/smoke.yaml --driver builtin`, read by a preload
 * (startup-probe.mjs) when the first RunPodSandbox goes to the built-in core, and of the whole
 * 1 s run at exit. A bare `node -e 0` is measured between the runs, for the share Node itself
 * takes on this machine. Issue 13's goal: ≤ 300 ms to the first cycle. Runs the built CLI
 * (dist/, built first); docs/performance.md says what the figure is made of.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchContext, BenchRecord } from './bench-types.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const probe = fileURLToPath(new URL('startup-probe.mjs', import.meta.url));
/** Runs of each kind, interleaved. */
const reps = 5;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The probe's records of one process. */
async function probed(args: readonly string[], dir: string, out: string): Promise<string> {
  await rm(out, { force: true });
  try {
    await run(process.execPath, ['--import', probe, ...args], {
      cwd: dir,
      env: { ...process.env, STARTUP_PROBE_OUT: out },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    // Exit 1 is a run judged failed (harness-bound on a loaded machine, say): it started all
    // the same. Anything else is the bench's failure.
    if ((err as { code?: unknown }).code !== 1) throw err;
  }
  return readFile(out, 'utf8');
}

function field(text: string, name: string): number {
  for (const line of text.trim().split('\n')) {
    const value = (JSON.parse(line) as Record<string, unknown>)[name];
    if (typeof value === 'number') return value;
  }
  throw new Error(`the start-up probe wrote no ${name}: ${text}`);
}

export default async function startupBench(ctx: BenchContext): Promise<BenchRecord[]> {
  ctx.log('building dist/ (the bench runs the real CLI)');
  await run('npm', ['run', 'build', '--silent'], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
  const dir = await mkdtemp(join(tmpdir(), 'churn-bench-startup-'));
  const out = join(dir, 'probe.jsonl');
  const first: number[] = [];
  const whole: number[] = [];
  const bare: number[] = [];
  try {
    for (let i = 0; i < reps; i++) {
      const churn = await probed(
        [
          join(repoRoot, 'dist/cli/main.js'),
          'run',
          join(repoRoot, 'scenarios/smoke.yaml'),
          '--duration',
          '1s',
          '--quiet',
          '--report-dir',
          join(dir, 'reports'),
        ],
        dir,
        out,
      );
      first.push(field(churn, 'firstCycleCpuMs'));
      whole.push(field(churn, 'exitCpuMs'));
      bare.push(field(await probed(['-e', '0'], dir, out), 'exitCpuMs'));
      ctx.log(
        `rep ${i + 1}: first cycle ${first[i]!.toFixed(0)} ms, whole ${whole[i]!.toFixed(0)} ms`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const range = (values: readonly number[]): string =>
    `${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)}`;
  return [
    {
      name: 'start-up CPU to the first cycle (smoke, builtin)',
      value: median(first),
      unit: 'ms',
      range: range(first),
      reps,
      goal: { atMost: 300, why: 'start-up to first cycle ≤ 300 ms of CPU (issue 13)' },
    },
    {
      name: 'CPU of a whole 1 s smoke run',
      value: median(whole),
      unit: 'ms',
      range: range(whole),
      reps,
    },
    {
      name: 'bare node -e 0 (for scale)',
      value: median(bare),
      unit: 'ms',
      range: range(bare),
      reps,
    },
  ];
}
