/**
 * What Prometheus export costs, measured in one run so the figures compare:
 * - the recorder's cost per recorded operation with the exporter attached (HDR histograms +
 *   Prometheus cells), without it, and for a failure; next to an empty `await`, and to
 *   prom-client's own `observe()` + `inc()` on pre-resolved children (what the exporter avoids);
 * - a scrape of a run's registry (the exposition text of 8 operations), in µs;
 * - one resource sample of this process, and a scan of /proc as the shim search makes, in ms.
 * Goal: under 1 µs per recorded operation with the exporter attached.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { Bench } from 'tinybench';
import { systemClock } from '../src/common/clock.js';
import type { OpName } from '../src/common/operations.js';
import { durationBucketsSeconds } from '../src/metrics/catalog.js';
import { MetricsExporter } from '../src/metrics/exporter.js';
import { Recorder } from '../src/metrics/recorder.js';
import { findProcessesByName, ResourceSampler } from '../src/metrics/sampler.js';
import type { BenchContext, BenchRecord } from './bench-types.js';

/** Operations per tinybench iteration: one sample times a batch, so timer overhead vanishes. */
const batch = 1000;
const ops: readonly OpName[] = [
  'run_pod',
  'create',
  'start',
  'stop',
  'remove',
  'stop_pod',
  'remove_pod',
  'cycle',
];

function meanMs(bench: Bench, name: string): number {
  const result = bench.getTask(name)?.result;
  if (result === undefined || !('latency' in result)) {
    throw new Error(`bench task ${name} did not complete`);
  }
  return result.latency.mean;
}

const perOpNs = (bench: Bench, name: string): number => (meanMs(bench, name) * 1e6) / batch;

export default async function metricsBench(ctx: BenchContext): Promise<BenchRecord[]> {
  const exporter = new MetricsExporter({
    scenario: 'bench',
    driver: 'builtin',
    runId: 'bench',
    churnVersion: '0',
  });
  const observed = new Recorder({ clock: systemClock, observers: [exporter] });
  const plain = new Recorder({ clock: systemClock });
  const slotWith = observed.slot('bench', 'start');
  const failWith = observed.slot('bench', 'stop');
  const slotWithout = plain.slot('bench', 'start');
  for (const op of ops) observed.slot('bench', op);
  // Latencies from 200 µs to a few seconds, spread over the buckets.
  const values = new Float64Array(4096);
  for (let i = 0; i < values.length; i++) values[i] = 200 + Math.exp((i % 97) / 8) * 50;

  const registry = new Registry();
  const promHistogram = new Histogram({
    name: 'bench_duration_seconds',
    help: 'bench',
    labelNames: ['scenario', 'driver', 'workload', 'op'],
    buckets: [...durationBucketsSeconds],
    registers: [registry],
  });
  const promCounter = new Counter({
    name: 'bench_operations_total',
    help: 'bench',
    labelNames: ['scenario', 'driver', 'workload', 'op', 'outcome', 'code'],
    registers: [registry],
  });
  const child = promHistogram.labels({
    scenario: 'b',
    driver: 'builtin',
    workload: 'w',
    op: 'start',
  });
  const childCounter = promCounter.labels({
    scenario: 'b',
    driver: 'builtin',
    workload: 'w',
    op: 'start',
    outcome: 'success',
    code: 'OK',
  });

  const timeMs = Math.max(200, ctx.durationMs / 8);
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs / 4) });
  bench.add('recorder + exporter: success', () => {
    const nowMs = systemClock.now();
    for (let i = 0; i < batch; i++) slotWith.success(values[i & 4095]!, nowMs);
  });
  bench.add('recorder + exporter: failure', () => {
    const nowMs = systemClock.now();
    for (let i = 0; i < batch; i++) failWith.failure('UNAVAILABLE', nowMs);
  });
  bench.add('recorder alone: success', () => {
    const nowMs = systemClock.now();
    for (let i = 0; i < batch; i++) slotWithout.success(values[i & 4095]!, nowMs);
  });
  bench.add('prom-client child observe + inc', () => {
    for (let i = 0; i < batch; i++) {
      child.observe(values[i & 4095]! / 1e6);
      childCounter.inc();
    }
  });
  const resolved = Promise.resolve();
  bench.add('empty await', async () => {
    for (let i = 0; i < batch; i++) await resolved;
  });
  ctx.log('metrics: measuring the cost per recorded operation');
  await bench.run();

  // A scrape, with every operation of the default cycle populated.
  for (const op of ops) {
    const slot = observed.slot('bench', op);
    for (let i = 0; i < 1000; i++) slot.success(values[i]!, systemClock.now());
  }
  const scrape = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs / 4) });
  let bytes = 0;
  scrape.add('scrape', async () => {
    bytes = (await exporter.metrics()).length;
  });
  const sampler = new ResourceSampler({ clock: systemClock });
  sampler.setTarget({ source: 'self', name: 'churn' });
  scrape.add('sample', async () => {
    await sampler.sample();
  });
  scrape.add('proc scan', async () => {
    await findProcessesByName('containerd');
  });
  ctx.log('metrics: measuring a scrape and a resource sample');
  await scrape.run();
  await sampler.stop();
  observed.release();
  plain.release();

  return [
    {
      name: 'recorder + Prometheus exporter: cost per recorded success',
      value: perOpNs(bench, 'recorder + exporter: success'),
      unit: 'ns/op',
      goal: { atMost: 1000, why: 'under 1 µs per recorded operation (issue 5)' },
    },
    {
      name: 'recorder + Prometheus exporter: cost per recorded failure',
      value: perOpNs(bench, 'recorder + exporter: failure'),
      unit: 'ns/op',
    },
    {
      name: 'recorder alone: cost per recorded success',
      value: perOpNs(bench, 'recorder alone: success'),
      unit: 'ns/op',
    },
    {
      name: 'empty await (same run, for scale)',
      value: perOpNs(bench, 'empty await'),
      unit: 'ns/op',
    },
    {
      name: "prom-client's own observe + inc per op (not used)",
      value: perOpNs(bench, 'prom-client child observe + inc'),
      unit: 'ns/op',
    },
    {
      name: 'scrape of a run (8 operations)',
      value: meanMs(scrape, 'scrape') * 1000,
      unit: 'µs',
      bytes,
    },
    {
      name: 'one resource sample (target: this process)',
      value: meanMs(scrape, 'sample'),
      unit: 'ms',
    },
    {
      name: 'scan of /proc (as the shim search does)',
      value: meanMs(scrape, 'proc scan'),
      unit: 'ms',
    },
  ];
}
