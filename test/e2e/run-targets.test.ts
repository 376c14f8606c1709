/**
 * `churn run` with the same scenario against every kind of target: the core in-process, the
 * core served over CRI with each executor, the private containerd with each of its two
 * runtime handlers, and the private CRI-O. Each run must have zero errors, write a report
 * naming the runtime, and leave nothing behind: no pod or container with its run label, no
 * process of its. Then every shipped scenario, shortened, against the core, containerd and
 * CRI-O with only --driver/--endpoint changed.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CriDriver } from '../../src/drivers/cri.js';
import type { Report } from '../../src/report/schema.js';
import { importNativeImage, nativeNamespace } from '../../scripts/containerd.js';
import { containerdForTests } from '../support/containerd.js';
import { crioForTests } from '../support/crio.js';
import { eventually, processesWithMarker, tempDir } from '../support/core-fixtures.js';
import { runChurn, startServe } from '../support/churn-process.js';

const containerd = await containerdForTests();
afterAll(() => containerd.release());
const crio = await crioForTests();
afterAll(() => crio.release());

const repoRoot = new URL('../..', import.meta.url).pathname;

/**
 * These runs check the runtime's side, so each allows the harness-bound mark: on a loaded CI
 * node churn's loop can lag past its bound, and saying so is right (the mark is tested in
 * test/integration/cli-run-verdicts.test.ts). An allowed mark prints nothing and exits 0.
 */
const allowHarnessBound = ['--allow', 'harness-bound'];

/** `churn run SCENARIO ...targetArgs` shortened to 4 s, its report in DIR/reports, JSON out. */
function runShortened(scenario: string, targetArgs: readonly string[], dir: string) {
  return runChurn(
    [
      'run',
      scenario,
      ...targetArgs,
      '--duration',
      '4s',
      '--report-dir',
      join(dir, 'reports'),
      '--json',
      ...allowHarnessBound,
    ],
    dir,
  );
}

/** Latency metrics: what a shortened run on a loaded machine cannot be held to. */
const latencyMetric = /^(p\d+|max|mean)$/;

/**
 * A shipped scenario's latency thresholds are goals for its full length on a node that runs it
 * alone; shortened to 4 s (a handful of cycles, so p99 is the slowest one) beside the rest of
 * the suite, one slow start can miss them. Such a miss may fail the run (exit 1, named on
 * stderr); every other threshold must hold, and the run must otherwise be clean.
 */
function expectCleanBarLatency(code: number, stderr: string, report: Report): void {
  const missed = report.thresholds.filter((t) => !t.ok);
  for (const t of missed) expect(t.metric, t.source).toMatch(latencyMetric);
  if (missed.length === 0) {
    expect(stderr).toBe('');
    expect(code).toBe(0);
  } else {
    expect(stderr).toBe(
      `churn: ${missed.length} threshold(s) failed: ${missed.map((t) => t.source).join('; ')}\n`,
    );
    expect(code).toBe(1);
  }
}

async function onlyReport(dir: string): Promise<Report> {
  const files: string[] = [];
  for (const scenario of await readdir(dir)) {
    for (const f of await readdir(join(dir, scenario))) files.push(join(dir, scenario, f));
  }
  expect(files).toHaveLength(1);
  return JSON.parse(await readFile(files[0]!, 'utf8')) as Report;
}

/** Starts `churn serve` on a socket in `dir`; stopped when the test finishes. */
async function serve(dir: string, executor: 'process' | 'runc'): Promise<string> {
  const socket = join(dir, `serve-${executor}.sock`);
  const p = await startServe(
    [
      '--socket',
      socket,
      '--state-dir',
      join(dir, `state-${executor}`),
      '--executor',
      executor,
      '--images',
      containerd.imagesDir,
    ],
    dir,
  );
  expect(p.stdout()).toContain('listening on');
  return `unix://${socket}`;
}

async function leftovers(endpoint: string, runId: string): Promise<number> {
  const driver = new CriDriver({ endpoint, runtimeHandler: '', callTimeoutMs: 30_000 });
  try {
    const filter = { labelSelector: { 'churn.run-id': runId } };
    return (await driver.listPods(filter)).length + (await driver.listContainers(filter)).length;
  } finally {
    await driver.close();
  }
}

type Target = {
  readonly name: string;
  readonly runtime: 'churn-core' | 'containerd' | 'cri-o';
  readonly handler: string;
  /** What the report's runtime version must match (the core names its executor). */
  readonly version: RegExp;
  readonly args: (dir: string) => Promise<string[]>;
};

const targets: Target[] = [
  {
    name: 'core in-process',
    runtime: 'churn-core',
    handler: '',
    version: /^\d+\.\d+\.\d+\+process$/,
    args: () => Promise.resolve(['--driver', 'builtin']),
  },
  {
    name: 'churn serve, process executor',
    runtime: 'churn-core',
    handler: '',
    version: /^\d+\.\d+\.\d+\+process$/,
    args: async (dir) => ['--driver', 'cri', '--endpoint', await serve(dir, 'process')],
  },
  {
    name: 'churn serve, runc executor',
    runtime: 'churn-core',
    handler: '',
    version: /^\d+\.\d+\.\d+\+runc$/,
    args: async (dir) => ['--driver', 'cri', '--endpoint', await serve(dir, 'runc')],
  },
  ...['runc', 'runc-nopivot'].map((handler): Target => ({
    name: `containerd, handler ${handler}`,
    runtime: 'containerd',
    handler,
    version: /^\d+\.\d+/,
    args: () =>
      Promise.resolve([
        '--driver',
        'cri',
        '--endpoint',
        containerd.endpoint,
        '--runtime-handler',
        handler,
      ]),
  })),
  ...(crio.skipReason === undefined
    ? [
        {
          name: 'CRI-O, default handler',
          runtime: 'cri-o',
          handler: '',
          version: /^1\.\d+\.\d+/,
          args: () => Promise.resolve(['--driver', 'cri', '--endpoint', crio.endpoint]),
        } satisfies Target,
      ]
    : []),
];

describe.skipIf(containerd.skipReason !== undefined)('one scenario, every target', () => {
  it.each(targets)(
    '$name: zero errors, a report naming the runtime, nothing left',
    async (target) => {
      const dir = await tempDir('churn-e2e-');
      const marker = `3${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
      const scenario = join(dir, 'same.yaml');
      await writeFile(
        scenario,
        `name: same-everywhere\nworkload:\n  command: [sleep, "${marker}"]\nload:\n  phases: [{ duration: 3s, concurrency: 2 }]\nthresholds: ["error_rate == 0"]\n`,
      );
      const runId = `e2e${Math.floor(Math.random() * 1e9).toString(36)}`;
      const args = await target.args(dir);
      const { code, stderr } = await runChurn(
        [
          'run',
          scenario,
          ...args,
          '--run-id',
          runId,
          '--report-dir',
          join(dir, 'reports'),
          '--quiet',
          ...allowHarnessBound,
        ],
        dir,
      );
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const report = await onlyReport(join(dir, 'reports'));
      expect(report.environment.runtime).toMatchObject({
        name: target.runtime,
        apiVersion: 'v1',
        handler: target.handler,
      });
      expect(report.environment.runtime.version).toMatch(target.version);
      expect(report.operations.cycle!.count).toBeGreaterThan(0);
      expect(report.operations.cycle!.errors).toBe(0);
      expect(report.cleanup).toMatchObject({ remainingPods: 0, remainingContainers: 0 });
      const endpoint = args[args.indexOf('--endpoint') + 1];
      if (args.includes('cri') && endpoint !== undefined)
        expect(await leftovers(endpoint, runId)).toBe(0);
      expect(await eventually(() => processesWithMarker(marker).length === 0, 10_000)).toBe(true);
    },
  );
});

/** Scenarios for containerd's native API (driver containerd): run natively below. */
const nativeShipped = ['containerd-stress.yaml'];
const shipped = (await readdir(join(repoRoot, 'scenarios')))
  .filter((f) => f.endsWith('.yaml') && !nativeShipped.includes(f))
  .sort();

describe.skipIf(containerd.skipReason !== undefined)(
  'every native shipped scenario, shortened, runs on containerd over its own API',
  () => {
    it.each(nativeShipped)('%s', async (file) => {
      await importNativeImage(nativeNamespace, containerd.paths);
      const dir = await tempDir('churn-e2e-');
      const scenario = join(dir, file);
      const text = await readFile(join(repoRoot, 'scenarios', file), 'utf8');
      await writeFile(scenario, text.replace(/address: .*/, `address: ${containerd.socketPath}`));
      const { code, stdout, stderr } = await runShortened(scenario, [], dir);
      const report = JSON.parse(stdout) as Report;
      expectCleanBarLatency(code, stderr, report);
      expect(report.operations.cycle!.count).toBeGreaterThan(0);
      expect(report.operations.cycle!.errors).toBe(0);
      expect(report.cleanup).toMatchObject({ remainingPods: 0, remainingContainers: 0 });
    });
  },
);

describe.skipIf(containerd.skipReason !== undefined)(
  'every shipped scenario, shortened, runs on the core, on containerd and on CRI-O',
  () => {
    const cases = shipped.flatMap((file) => [
      { file, target: 'builtin', args: [] as string[] },
      { file, target: 'containerd', args: ['--driver', 'cri', '--endpoint', containerd.endpoint] },
      ...(crio.skipReason === undefined
        ? [{ file, target: 'crio', args: ['--driver', 'cri', '--endpoint', crio.endpoint] }]
        : []),
    ]);
    it.each(cases)('$file on $target', async ({ file, args }) => {
      const dir = await tempDir('churn-e2e-');
      const { code, stdout, stderr } = await runShortened(
        join(repoRoot, 'scenarios', file),
        args,
        dir,
      );
      const report = JSON.parse(stdout) as Report;
      expectCleanBarLatency(code, stderr, report);
      expect(report.operations.cycle!.count).toBeGreaterThan(0);
      expect(report.cleanup).toMatchObject({ remainingPods: 0, remainingContainers: 0 });
    });
  },
);
