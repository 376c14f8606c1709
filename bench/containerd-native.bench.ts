/**
 * churn's native containerd driver vs the stock containerd-stress (v1.6.20, ../shared/tools)
 * on the same private containerd, at concurrency 1, 2 and 4, interleaved (stress, churn) per
 * level: containers/s and each tool's own CPU per container side by side (issue 14: churn's
 * throughput at least equal, its CPU per cycle lower).
 *
 * Same workload: containerd-stress's cycle (create container + snapshot, task running `true`,
 * wait, delete) — scenarios/containerd-stress.yaml for churn — each tool in a namespace of its
 * own with busybox imported. CPU is the whole process's user + system time (start-up and
 * connect included for both), read with the shell's `times` after the tool exits; churn runs
 * its built CLI (dist/), as `churn run` does, with its sampler and recorder. churn's record
 * also gives its CPU per container from connecting on (its report's `harness.cpuSeconds`),
 * which leaves out start-up.
 *
 * Skipped with a note when not root, no private containerd, or no containerd-stress binary.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Report } from '../src/report/schema.js';
import {
  busyboxRef,
  containerdPaths,
  importNativeImage,
  nativeNamespace,
  runningPid,
  startContainerd,
  stopContainerd,
} from '../scripts/containerd.js';
import type { BenchContext, BenchRecord } from './bench-types.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const stressXz = join(root, '../shared/tools/containerd-stress/containerd-stress.xz');
const stressNamespace = 'stress';
const levels = [1, 2, 4];

/** One tool's run at one level. */
interface ToolRun {
  readonly containers: number;
  readonly failures: number;
  readonly seconds: number;
  /** Own CPU (user + system) of the tool's process, in ms. */
  readonly cpuMs: number;
  /** churn only: its CPU from connecting to the end of the run (its report's), in ms. */
  readonly runCpuMs?: number;
}

/** Runs `command` under sh and returns its stdout and its children's CPU from `times`. */
async function timed(
  command: string,
  env: NodeJS.ProcessEnv,
): Promise<{ stdout: string; cpuMs: number }> {
  const marker = '--churn-times--';
  const { stdout } = await run('sh', ['-c', `${command}; echo ${marker}; times`], {
    env,
    maxBuffer: 64 << 20,
  });
  const [out = '', times = ''] = stdout.split(`${marker}\n`);
  const children = times.trim().split('\n')[1] ?? '';
  const secs = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map(
    (m) => Number(m[1]) * 60 + Number(m[2]),
  );
  return { stdout: out, cpuMs: secs.reduce((a, b) => a + b, 0) * 1000 };
}

async function runStress(
  binary: string,
  socket: string,
  workers: number,
  durationMs: number,
): Promise<ToolRun> {
  const { stdout, cpuMs } = await timed(
    `${binary} --address ${socket} -c ${workers} -d ${durationMs}ms --json -i ${busyboxRef} 2>/dev/null`,
    { ...process.env, STRESS_NAMESPACE: stressNamespace },
  );
  const line = stdout.trim().split('\n').pop() ?? '{}';
  const result = JSON.parse(line) as { total: number; failures: number; seconds: number };
  return { containers: result.total, failures: result.failures, seconds: result.seconds, cpuMs };
}

async function runChurnNative(
  scenario: string,
  reportDir: string,
  workers: number,
  durationMs: number,
): Promise<ToolRun> {
  const { stdout, cpuMs } = await timed(
    `node ${join(root, 'dist/cli/main.js')} run ${scenario} --concurrency ${workers} --duration ${durationMs}ms --report-dir ${reportDir} --json 2>/dev/null`,
    process.env,
  );
  const report = JSON.parse(stdout) as Report;
  const cycle = report.operations['cycle'];
  return {
    containers: (cycle?.count ?? 0) - (cycle?.errors ?? 0),
    failures: cycle?.errors ?? 0,
    seconds: durationMs / 1000,
    cpuMs,
    ...(report.harness !== null ? { runCpuMs: report.harness.cpuSeconds * 1000 } : {}),
  };
}

/** The bench; see the module comment. */
export default async function containerdNativeBench(ctx: BenchContext): Promise<BenchRecord[]> {
  if (process.getuid?.() !== 0) {
    ctx.log('skipped: the private containerd needs root');
    return [];
  }
  const tmp = await mkdtemp(join(tmpdir(), 'churn-bench-native-'));
  const paths = containerdPaths();
  const startedHere = (await runningPid(paths)) === undefined;
  try {
    try {
      execFileSync('sh', ['-c', `xz -dc ${stressXz} > ${tmp}/containerd-stress`]);
      execFileSync('chmod', ['+x', `${tmp}/containerd-stress`]);
    } catch {
      ctx.log(`skipped: no containerd-stress at ${stressXz}`);
      return [];
    }
    await startContainerd(paths);
    await importNativeImage(stressNamespace, paths);
    await importNativeImage(nativeNamespace, paths);
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'ignore' });
    const text = await readFile(join(root, 'scenarios/containerd-stress.yaml'), 'utf8');
    const scenario = join(tmp, 'containerd-stress.yaml');
    await writeFile(scenario, text.replace(/address: .*/, `address: ${paths.socket}`));
    const durationMs = Math.max(ctx.durationMs, 10_000);
    const records: BenchRecord[] = [];
    for (const workers of levels) {
      const stress = await runStress(`${tmp}/containerd-stress`, paths.socket, workers, durationMs);
      const churn = await runChurnNative(scenario, join(tmp, 'reports'), workers, durationMs);
      const rate = (r: ToolRun): number => r.containers / r.seconds;
      const cpu = (r: ToolRun): number => r.cpuMs / Math.max(1, r.containers);
      ctx.log(
        `c=${workers}: containerd-stress ${rate(stress).toFixed(2)}/s ${cpu(stress).toFixed(1)} ms CPU/container (${stress.failures} failures) · churn native ${rate(churn).toFixed(2)}/s ${cpu(churn).toFixed(1)} ms CPU/container (${churn.failures} errors)`,
      );
      const detail = { concurrency: workers };
      records.push(
        {
          name: `containerd-stress c=${workers}`,
          value: rate(stress),
          unit: 'containers/s',
          ...detail,
          failures: stress.failures,
          cpuMsPerContainer: cpu(stress),
        },
        {
          name: `churn native c=${workers}`,
          value: rate(churn),
          unit: 'containers/s',
          ...detail,
          errors: churn.failures,
          cpuMsPerContainer: cpu(churn),
          // Without start-up (module loading, connect): what a longer run tends to.
          ...(churn.runCpuMs !== undefined
            ? { runCpuMsPerContainer: churn.runCpuMs / Math.max(1, churn.containers) }
            : {}),
        },
        {
          name: `throughput churn/stress c=${workers}`,
          value: rate(churn) / rate(stress),
          unit: 'ratio',
          ...detail,
          goal: {
            atLeast: 1,
            why: 'churn native at least as fast as containerd-stress (issue 14)',
          },
        },
        {
          name: `CPU per container churn/stress c=${workers}`,
          value: cpu(churn) / cpu(stress),
          unit: 'ratio',
          ...detail,
          goal: { atMost: 1, why: 'churn spends less of its own CPU per cycle (issue 14)' },
        },
      );
    }
    return records;
  } finally {
    if (startedHere) await stopContainerd(paths).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
  }
}
