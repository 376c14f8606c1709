/**
 * The built-in core's cost per operation as live containers pile up (issue 13: "per-op cost
 * and RSS per live container flat up to 4,000 live containers"), measured in one run:
 *
 *   op@N              median latency of create, start, stop (timeout 0) and remove of a fresh
 *                     container while N `sleep 3600` containers are held RUNNING, for N = 10,
 *                     1,000 and 4,000 (in-process core, RuntimeService, executor `process`)
 *   op@4000 / op@10   the ratio, with the goal of at most 1.10 (no op more than +10%)
 *   RSS per 1,000     growth of this process's resident set from 10 to 4,000 live containers
 *                     (after a garbage collection), per 1,000 containers; goal ≤ 4 MB
 *
 * Latencies are medians over cycles run one after another (no concurrency), so the figure is
 * the work of one call; the held containers are started 16 at a time between the levels and
 * are left alone while a level is measured. A stop at 0 s is a SIGKILL, as the bench cycles
 * and `stopTimeout: 0s` scenarios do; a stop with a grace period is measured too (SIGTERM, on
 * which `sleep` exits at once), since it takes another path through the executor.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RuntimeService } from '../src/runtime/service.js';
import type { ContainerConfig, PodSandboxConfig } from '../src/runtime/types.js';
import type { BenchContext, BenchRecord } from './bench-types.js';

const levels = [10, 1000, 4000] as const;
const ops = ['create', 'start', 'stop', 'stop_grace', 'remove'] as const;
type Op = (typeof ops)[number];

const pod: PodSandboxConfig = {
  metadata: { name: 'bench-live', uid: 'bench-live-uid', namespace: 'churn-bench', attempt: 0 },
  hostname: 'churn-bench',
  logDirectory: '',
  labels: {},
  annotations: {},
  networkMode: 'NODE',
  pidMode: 'CONTAINER',
  ipcMode: 'POD',
};

function container(name: string): ContainerConfig {
  return {
    metadata: { name, attempt: 0 },
    image: 'host',
    command: ['sleep', '3600'],
    args: [],
    workingDir: '',
    envs: [],
    labels: {},
    annotations: {},
    logPath: '',
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A full garbage collection, so RSS compares live data and not garbage. */
const gc = ((): (() => void) => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/** The bench: see the module comment. */
export default async function liveContainersBench(ctx: BenchContext): Promise<BenchRecord[]> {
  const cycles = Math.max(60, Math.round(ctx.durationMs / 25));
  const stateDir = await mkdtemp(join(tmpdir(), 'churn-bench-live-'));
  const core = await RuntimeService.open({ stateDir, executor: 'process' });
  const latency = new Map<string, number[]>();
  const rssMb = new Map<number, number>();
  let seq = 0;
  try {
    const podId = await core.runPodSandbox(pod, '');
    const held: string[] = [];
    const hold = async (n: number): Promise<void> => {
      const workers = Array.from({ length: 16 }, async () => {
        while (held.length < n) {
          const slot = held.length;
          held.push('');
          const id = await core.createContainer(podId, container(`held-${slot}`), pod);
          await core.startContainer(id);
          held[slot] = id;
        }
      });
      await Promise.all(workers);
    };
    const timed = async <T>(level: number, op: Op, call: () => Promise<T>): Promise<T> => {
      const t0 = performance.now();
      const out = await call();
      const key = `${op}@${level}`;
      const list = latency.get(key) ?? [];
      list.push(performance.now() - t0);
      latency.set(key, list);
      return out;
    };
    for (const level of levels) {
      await hold(level);
      // Let the spawns' aftermath (exits of nothing, journal writes, GC) settle.
      await new Promise((r) => setTimeout(r, 500));
      gc();
      rssMb.set(level, process.memoryUsage().rss / 2 ** 20);
      ctx.log(`${level} live: rss ${rssMb.get(level)!.toFixed(1)} MB, measuring ${cycles} cycles`);
      for (let i = 0; i < cycles; i++) {
        const graceful = i % 2 === 1;
        const id = await timed(level, 'create', () =>
          core.createContainer(podId, container(`probe-${seq++}`), pod),
        );
        await timed(level, 'start', () => core.startContainer(id));
        await timed(level, graceful ? 'stop_grace' : 'stop', () =>
          core.stopContainer(id, graceful ? 10 : 0),
        );
        await timed(level, 'remove', () => core.removeContainer(id));
      }
    }
  } finally {
    ctx.log('closing the core (kills every held container)');
    await core.close();
    await rm(stateDir, { recursive: true, force: true });
  }

  const records: BenchRecord[] = [];
  const first = levels[0];
  const last = levels[levels.length - 1]!;
  for (const op of ops) {
    for (const level of levels) {
      records.push({
        name: `core ${op} with ${level} live containers (median)`,
        value: median(latency.get(`${op}@${level}`) ?? [NaN]),
        unit: 'ms',
        samples: latency.get(`${op}@${level}`)?.length ?? 0,
      });
    }
    records.push({
      name: `core ${op}: latency ratio ${last} / ${first} live`,
      value:
        median(latency.get(`${op}@${last}`) ?? [NaN]) /
        median(latency.get(`${op}@${first}`) ?? [NaN]),
      unit: 'ratio',
      goal: {
        atMost: 1.1,
        why: 'no op more than +10% from 10 to 4,000 live containers (issue 13)',
      },
    });
  }
  records.push({
    name: `core RSS growth per 1,000 live containers (${first} → ${last})`,
    value: ((rssMb.get(last)! - rssMb.get(first)!) * 1000) / (last - first),
    unit: 'MB',
    rssAt10Mb: Number(rssMb.get(first)!.toFixed(1)),
    rssAt1000Mb: Number(rssMb.get(1000)!.toFixed(1)),
    rssAt4000Mb: Number(rssMb.get(last)!.toFixed(1)),
    goal: { atMost: 4, why: 'RSS ≤ 4 MB per 1,000 live containers (issue 13)' },
  });
  return records;
}
