/**
 * The built-in core's throughput against the machine's ceiling, measured in one run:
 *
 *   spawn_kill_rate     Node spawning `sleep 3600`, SIGKILL, awaiting the exit: the physical
 *                       ceiling of any runtime that runs a process per container
 *   core_cycles_rate    whole cycles (run_pod, create, start, stop, remove, stop_pod,
 *                       remove_pod) through BuiltinDriver, `sleep 3600` in the host image
 *   core_to_spawn_ratio core_cycles_rate / spawn_kill_rate at the same concurrency
 *
 * at concurrency 1 and 4, for executor `process`, and for `runc` when root and runc are there
 * (its cycles include a runc create/start/kill/delete per container and a pause per pod).
 * The builtin driver's temporary state directory is not synced (nothing outlives the run); the
 * same process cycles with a durable state (every acknowledged change fdatasynced, group
 * commit: what `churn serve` and a `--state-dir` run do) give
 *
 *   durable_to_nosync_ratio  durable cycles/s / unsynced cycles/s (issue 12: ≥ 0.8)
 *   state_fdatasync_latency  one journal-sized append + fdatasync in the same temporary
 *                            directory's file system, measured between the rounds (mean: a
 *                            cycle's time adds the syncs up; the median is a detail)
 *   durable_ratio_bound      at concurrency 1, what the ratio can be at most with that latency:
 *                            a cycle acknowledges 7 changes one after the other, each synced
 *                            before its reply, so it takes 7 syncs longer than an unsynced one
 *                            (docs/state.md, "What durability costs")
 * The measurements alternate in short rounds so a noisy neighbour hits them alike.
 */
import { spawn } from 'node:child_process';
import { closeSync, fdatasync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BuiltinDriver } from '../src/drivers/builtin.js';
import type { ContainerSpec, PodSpec } from '../src/drivers/driver.js';
import type { ExecutorName } from '../src/runtime/executors/executor.js';
import type { BenchRecord } from './bench-types.js';

/** Completed operations per second of `op` run back to back by `concurrency` workers for `ms`. */
async function closedLoop(
  ms: number,
  concurrency: number,
  op: () => Promise<void>,
): Promise<{ count: number; elapsedMs: number }> {
  let count = 0;
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await op();
        count += 1;
      }
    }),
  );
  return { count, elapsedMs: performance.now() - started };
}

async function spawnAndKill(): Promise<void> {
  const child = spawn('sleep', ['3600'], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => {
      child.kill('SIGKILL');
    });
    child.once('exit', () => resolve());
    child.once('error', reject);
  });
}

const fdatasyncAsync = promisify(fdatasync);

/** Changes a cycle acknowledges one after the other, each synced before its reply. */
const changesPerCycle = 7;

/**
 * Microseconds of `count` appends of a journal-sized record (700 bytes) each followed by an
 * fdatasync on the thread pool, as the journal does it, in a fresh directory under `dir`.
 */
async function syncLatencies(dir: string, count: number): Promise<number[]> {
  const own = mkdtempSync(join(dir, 'churn-bench-sync-'));
  const fd = openSync(join(own, 'journal'), 'wx', 0o600);
  const record = Buffer.alloc(700, 0x61);
  const out: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      writeSync(fd, record);
      await fdatasyncAsync(fd);
      out.push((performance.now() - started) * 1000);
    }
  } finally {
    closeSync(fd);
    rmSync(own, { recursive: true, force: true });
  }
  return out;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

let podSeq = 0;
const container: ContainerSpec = {
  name: 'bench',
  attempt: 0,
  image: 'host',
  command: ['sleep', '3600'],
  args: [],
  workingDir: '',
  env: {},
  labels: {},
  annotations: {},
  logPath: '',
};

function cycleOf(driver: BuiltinDriver): () => Promise<void> {
  return async () => {
    podSeq += 1;
    const pod: PodSpec = {
      name: `bench-${podSeq}`,
      uid: `bench-uid-${podSeq}`,
      namespace: 'churn-bench',
      attempt: 0,
      labels: {},
      annotations: {},
      hostNetwork: true,
      logDirectory: '',
    };
    const podId = await driver.runPod(pod);
    const id = await driver.createContainer(podId, pod, container);
    await driver.startContainer(id);
    await driver.stopContainer(id, 0);
    await driver.removeContainer(id);
    await driver.stopPod(podId);
    await driver.removePod(podId);
  };
}

function runcUsable(): Promise<boolean> {
  if (process.getuid?.() !== 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const child = spawn('runc', ['--version'], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

/** The bench: see the module comment. */
export default async function coreBench(ctx: { durationMs: number }): Promise<BenchRecord[]> {
  const executors: ExecutorName[] = ['process'];
  if (await runcUsable()) executors.push('runc');
  const concurrencies = [1, 4];
  const rounds = 4;
  const variants: [string, BuiltinDriver][] = [
    ...executors.map((name): [string, BuiltinDriver] => [
      name,
      new BuiltinDriver({ executor: name }),
    ]),
    ['process-durable', new BuiltinDriver({ executor: 'process', durable: true })],
  ];
  const slots = concurrencies.length * (1 + variants.length) * rounds;
  const sliceMs = Math.max(250, ctx.durationMs / slots);

  const drivers = new Map<string, BuiltinDriver>();
  for (const [key, driver] of variants) {
    await driver.connect();
    await cycleOf(driver)(); // warm up: first spawn, first journal write
    drivers.set(key, driver);
  }
  const totals = new Map<string, { count: number; elapsedMs: number }>();
  const syncs: number[] = [];
  const add = (key: string, r: { count: number; elapsedMs: number }): void => {
    const t = totals.get(key) ?? { count: 0, elapsedMs: 0 };
    totals.set(key, { count: t.count + r.count, elapsedMs: t.elapsedMs + r.elapsedMs });
  };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const c of concurrencies) {
        add(`spawn/${c}`, await closedLoop(sliceMs, c, spawnAndKill));
        for (const [name, driver] of drivers)
          add(`${name}/${c}`, await closedLoop(sliceMs, c, cycleOf(driver)));
        syncs.push(...(await syncLatencies(tmpdir(), 20)));
      }
    }
  } finally {
    for (const driver of drivers.values()) await driver.close();
  }

  const rate = (key: string): number => {
    const t = totals.get(key)!;
    return t.count / (t.elapsedMs / 1000);
  };
  const syncUs = mean(syncs);
  const results: BenchRecord[] = [
    {
      name: 'state_fdatasync_latency',
      value: syncUs,
      unit: 'µs',
      median: Math.round(median(syncs)),
      samples: syncs.length,
      dir: tmpdir(),
    },
  ];
  for (const c of concurrencies) {
    const ceiling = rate(`spawn/${c}`);
    results.push({
      name: 'spawn_kill_rate',
      value: ceiling,
      unit: 'ops/s',
      concurrency: c,
      command: 'sleep 3600',
    });
    for (const name of executors) {
      const cycles = rate(`${name}/${c}`);
      results.push({
        name: 'core_cycles_rate',
        value: cycles,
        unit: 'cycles/s',
        concurrency: c,
        executor: name,
        driver: 'builtin',
      });
      results.push({
        name: 'core_to_spawn_ratio',
        value: cycles / ceiling,
        unit: 'ratio',
        concurrency: c,
        executor: name,
        ...(name === 'process'
          ? {
              goal: {
                atLeast: 0.7,
                why: "at least 0.7 of Node's spawn-and-kill ceiling, the core in its own process (issue 10)",
              },
            }
          : {}),
      });
    }
    const durable = rate(`process-durable/${c}`);
    results.push({
      name: 'core_cycles_rate',
      value: durable,
      unit: 'cycles/s',
      concurrency: c,
      executor: 'process',
      driver: 'builtin',
      durable: true,
    });
    results.push({
      name: 'durable_to_nosync_ratio',
      value: durable / rate(`process/${c}`),
      unit: 'ratio',
      concurrency: c,
      executor: 'process',
      goal: {
        atLeast: 0.8,
        why: 'a durable state (fdatasync before each acknowledgement) keeps ≥ 0.8 of the unsynced cycles/s (issue 12)',
      },
    });
    if (c === 1) {
      // 7 syncs in a row per cycle: the unsynced cycle's time plus 7 sync latencies.
      const cycleUs = 1e6 / rate(`process/${c}`);
      results.push({
        name: 'durable_ratio_bound',
        value: cycleUs / (cycleUs + changesPerCycle * syncUs),
        unit: 'ratio',
        concurrency: c,
        executor: 'process',
        syncsPerCycle: changesPerCycle,
      });
    }
  }
  return results;
}
