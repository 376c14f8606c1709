/**
 * critest's own benchmarks (`critest -benchmark`, the stock cri-tools v1.26.1 from
 * ../shared/tools/cri-tools) against `churn serve --executor runc` and the private containerd
 * (runc), on the same machine in one run: the median of each CRI operation critest times (pod:
 * create, status, stop, remove; container: create, start, status, stop, remove; image: pull,
 * status, remove; list images; a pod and its container from scratch), side by side with the
 * churn/containerd ratio. Both pull the same images: churn from OCI archives (--images), containerd
 * from a loopback registry serving the same archives. Sample counts: {@link params}.
 *
 * Needs root, runc, containerd and the cri-tools; without them it says why on stderr and
 * records nothing, never faking a figure.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  mirrorRegistries,
  runningPid,
  startContainerd,
  stopContainerd,
  containerdPaths,
} from '../scripts/containerd.js';
import { buildCritestImages, critestRegistries } from '../scripts/critest-images.js';
import { decompressCriTools } from '../test/support/cri-tools.js';
import { unmountUnder } from '../test/support/critest.js';
import { serveOciArchives } from '../test/support/oci-registry.js';
import { spawnServe, stopServe } from './serve-process.js';
import type { BenchContext, BenchRecord } from './bench-types.js';

/** critest's benchmarking parameters: samples per benchmark, one at a time. */
const params = {
  podsNumber: 40,
  podsNumberParallel: 1,
  podBenchmarkTimeoutSeconds: 300,
  containersNumber: 40,
  containersNumberParallel: 1,
  containerBenchmarkTimeoutSeconds: 300,
  imagesNumber: 10,
  imagesNumberParallel: 1,
  imageBenchmarkTimeoutSeconds: 300,
  podContainerStartBenchmarkTimeoutSeconds: 300,
  imagePullingBenchmarkImage: 'docker.io/library/busybox:latest',
  imageListingBenchmarkImages: ['docker.io/library/busybox:latest'],
};

/** One benchmark data file of critest (`<name>_benchmark_data.json`). */
interface BenchmarkData {
  readonly operationsNames: readonly string[];
  readonly datapoints: readonly { readonly operationsDurationsNs: readonly number[] }[] | null;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median ms (and sample count) per operation, from critest's output dir and stdout. */
async function medians(outDir: string, stdout: string): Promise<Map<string, [number, number]>> {
  const out = new Map<string, [number, number]>();
  for (const file of (await readdir(outDir)).filter((f) => f.endsWith('.json')).sort()) {
    const data = JSON.parse(await readFile(join(outDir, file), 'utf8')) as BenchmarkData;
    data.operationsNames.forEach((op, i) => {
      const ns = (data.datapoints ?? []).map((d) => d.operationsDurationsNs[i]!);
      if (ns.length > 0) out.set(op, [median(ns) / 1e6, ns.length]);
    });
  }
  // The from-scratch benchmark reports only in its ginkgo output: "Name | N | Min | Median …".
  const plain = stdout.replace(/\x1b\[[0-9;]*m/g, ''); // eslint-disable-line no-control-regex
  const row =
    /create PodSandbox and container \[duration\]\s*\|\s*(\d+)\s*\|\s*\S+\s*\|\s*([\d.]+)(ms|s|µs)/.exec(
      plain,
    );
  if (row !== null) {
    const scale = row[3] === 's' ? 1000 : row[3] === 'µs' ? 0.001 : 1;
    out.set('PodSandbox and container from scratch', [Number(row[2]) * scale, Number(row[1])]);
  }
  return out;
}

/** Runs `critest -benchmark` against `endpoint`; resolves with its medians. */
async function runBenchmarks(
  critest: string,
  endpoint: string,
  dir: string,
): Promise<Map<string, [number, number]>> {
  const outDir = join(dir, 'out');
  await mkdir(outDir, { recursive: true });
  const paramsFile = join(dir, 'params.json'); // JSON is YAML
  await writeFile(paramsFile, JSON.stringify(params));
  const child = spawn(
    critest,
    [
      '-benchmark',
      '--runtime-endpoint',
      endpoint,
      '--image-endpoint',
      endpoint,
      '-benchmarking-output-dir',
      outDir,
      '-benchmarking-params-file',
      paramsFile,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: dir } },
  );
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20 * 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  await unmountUnder(dir);
  if (code !== 0)
    throw new Error(`critest -benchmark exited ${String(code)}: ${output.slice(-2000)}`);
  return medians(outDir, output);
}

export default async function critestBench(ctx: BenchContext): Promise<BenchRecord[]> {
  if (process.getuid?.() !== 0) {
    ctx.log('skipping: critest against runc and containerd needs root');
    return [];
  }
  const tools = await decompressCriTools(['critest'], { needsRoot: true });
  if (tools.skipReason !== undefined) {
    ctx.log(`skipping: ${tools.skipReason}`);
    return [];
  }
  const dir = await mkdtemp(join(tmpdir(), 'churn-critest-bench-'));
  try {
    const images = join(dir, 'images');
    await buildCritestImages(images);

    ctx.log(
      `critest -benchmark against churn serve --executor runc (${params.podsNumber} pods, ${params.containersNumber} containers, ${params.imagesNumber} pulls)`,
    );
    const churnDir = join(dir, 'churn');
    await mkdir(churnDir);
    const serve = await spawnServe(churnDir, ['--executor', 'runc', '--images', images]);
    let churn: Map<string, [number, number]>;
    try {
      churn = await runBenchmarks(tools.paths.critest, serve.endpoint, churnDir);
    } finally {
      await stopServe(serve.child);
    }

    ctx.log('critest -benchmark against the private containerd (runc)');
    const paths = containerdPaths();
    const wasRunning = (await runningPid(paths)) !== undefined;
    await startContainerd(paths);
    const archives = (await readdir(images)).map((name) => join(images, name));
    const registry = await serveOciArchives(archives);
    const unmirror = await mirrorRegistries(paths, critestRegistries(), registry.address);
    let containerd: Map<string, [number, number]>;
    try {
      const ctrDir = join(dir, 'containerd');
      await mkdir(ctrDir);
      containerd = await runBenchmarks(tools.paths.critest, paths.endpoint, ctrDir);
    } finally {
      await unmirror();
      await registry.close();
      if (!wasRunning) await stopContainerd(paths);
    }

    const records: BenchRecord[] = [];
    for (const [op, [churnMs, n]] of churn) {
      const theirs = containerd.get(op);
      ctx.log(
        `${op.padEnd(40)} churn runc ${churnMs.toFixed(1).padStart(7)} ms   containerd ${theirs === undefined ? '     —' : theirs[0].toFixed(1).padStart(7)} ms`,
      );
      records.push({
        name: `critest median ${op}: churn serve runc`,
        value: churnMs,
        unit: 'ms',
        samples: n,
      });
      if (theirs === undefined) continue;
      records.push({
        name: `critest median ${op}: containerd runc`,
        value: theirs[0],
        unit: 'ms',
        samples: theirs[1],
      });
      records.push({
        name: `critest median ${op}: churn / containerd`,
        value: churnMs / theirs[0],
        unit: 'ratio',
      });
    }
    return records;
  } finally {
    await unmountUnder(dir);
    await rm(dir, { recursive: true, force: true });
    await tools.release();
  }
}
