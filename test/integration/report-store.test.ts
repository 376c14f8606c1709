import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gateOnBaseline } from '../../src/report/compare/baseline.js';
import { findComparableRunBefore, findLatestRun, locateReport } from '../../src/report/locate.js';
import { readReport } from '../../src/report/read.js';
import { listStoredReports, pruneReports, writeReport } from '../../src/report/store.js';
import { readTags, setTag, tagsPath } from '../../src/report/tags.js';
import { defaultOps, syntheticReport } from '../support/synthetic-report.js';
import { buildReport } from '../../src/report/build.js';
import { collectHostInfo } from '../../src/report/host-info.js';
import { runScenario } from '../../src/load/runner.js';
import { Recorder } from '../../src/metrics/recorder.js';
import { scenarioSchema } from '../../src/scenario/schema.js';
import { FakeClock } from '../support/fake-clock.js';
import { FakeDriver } from '../support/fake-driver.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('report store', () => {
  it('writes <dir>/<scenario>/<start>_<run-id>.json atomically and returns the path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'churn-store-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const scenario = scenarioSchema.parse({
      name: 'store-test',
      load: { phases: [{ duration: '2s', concurrency: 1 }] },
    });
    const clock = new FakeClock({ startMs: 0 });
    const recorder = new Recorder({ clock });
    cleanups.push(() => Promise.resolve(recorder.release()));
    const driver = new FakeDriver({ clock, latencyMs: { start: 5 } });
    const result = await runScenario({ scenario, driver, recorder, clock, runId: 'abc' });
    const report = buildReport({ outcome: result, scenario, host: collectHostInfo('0.1.0') });

    const path = await writeReport(dir, report);
    expect(path).toBe(join(dir, 'store-test', '20250101T000000Z_abc.json'));
    expect(await readdir(join(dir, 'store-test'))).toEqual(['20250101T000000Z_abc.json']);
    const back = JSON.parse(await readFile(path, 'utf8')) as typeof report;
    expect(back.run).toEqual(report.run);
    expect(back.operations).toEqual(report.operations);
    expect(back.environment.cpuCount).toBeGreaterThan(0);
  });
});

describe('report store: reading, tags, retention, baselines', () => {
  async function store(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'churn-store-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }
  const day = (d: number): number => Date.UTC(2025, 2, d, 10, 0, 0);

  it('reads back every report it wrote, and leaves no temporary file', async () => {
    const dir = await store();
    const paths: string[] = [];
    for (let d = 1; d <= 3; d++) {
      paths.push(
        await writeReport(
          dir,
          syntheticReport({
            seed: d,
            runId: `r${d}`,
            ops: defaultOps(),
            durationMs: 2000,
            startWallMs: day(d),
          }),
        ),
      );
    }
    expect(await readdir(join(dir, 'synthetic'))).toEqual(paths.map((p) => basename(p)));
    expect((await listStoredReports(dir)).map((r) => r.runId)).toEqual(['r1', 'r2', 'r3']);
    const back = await readReport(paths[1]!);
    expect(back.run.id).toBe('r2');
    await expect(readReport(join(dir, 'nope.json'))).rejects.toThrow(
      /nope\.json: cannot read the report: no such file/,
    );
    await expect(readReport(dir)).rejects.toThrow(/is a directory/);
  });

  it('keeps tags in tags.json, relative to the store, and finds reports by tag', async () => {
    const dir = await store();
    const path = await writeReport(
      dir,
      syntheticReport({ seed: 1, runId: 'r1', ops: defaultOps(), durationMs: 2000 }),
    );
    await setTag(dir, 'base', path, {
      scenario: 'synthetic',
      runId: 'r1',
      taggedAt: '2025-03-01T00:00:00.000Z',
    });
    expect(JSON.parse(await readFile(tagsPath(dir), 'utf8'))).toEqual({
      version: 1,
      tags: {
        base: {
          path: 'synthetic/20250301T100000Z_r1.json',
          scenario: 'synthetic',
          runId: 'r1',
          taggedAt: '2025-03-01T00:00:00.000Z',
        },
      },
    });
    expect((await locateReport('base', dir, '/')).report.run.id).toBe('r1');
    await writeFile(tagsPath(dir), '{"version": 2}');
    await expect(readTags(dir)).rejects.toThrow(/tags\.json: not a churn tags file/);
  });

  it('gates a run on its baseline: the previous complete run, a tag, or nothing yet', async () => {
    const dir = await store();
    const first = syntheticReport({
      seed: 1,
      runId: 'r1',
      ops: defaultOps(),
      ratePerSec: 300,
      startWallMs: day(1),
    });
    const partial = syntheticReport({
      seed: 2,
      runId: 'r2',
      ops: defaultOps(),
      ratePerSec: 300,
      startWallMs: day(2),
      state: 'interrupted',
    });
    const slower = syntheticReport({
      seed: 3,
      runId: 'r3',
      ops: defaultOps({ start: { scale: 1.4 } }),
      ratePerSec: 300,
      startWallMs: day(3),
    });
    const p1 = await writeReport(dir, first);
    const none = await gateOnBaseline({
      candidate: { report: first, path: p1 },
      baseline: 'latest',
      reportDir: dir,
      cwd: dir,
    });
    expect(none).toMatchObject({ state: 'no-baseline', exitCode: 0 });
    await writeReport(dir, partial);
    const p3 = await writeReport(dir, slower);
    const gate = await gateOnBaseline({
      candidate: { report: slower, path: p3 },
      baseline: 'latest',
      reportDir: dir,
      cwd: dir,
    });
    expect(gate.state).toBe('regression');
    expect(gate.exitCode).toBe(1);
    if (gate.state === 'regression') {
      // The partial run in between is skipped: the baseline is the last complete one.
      expect(gate.base.report.run.id).toBe('r1');
      expect(gate.text).toMatch(/^start\s+p50 .* regression$/m);
    }
    const bad = await gateOnBaseline({
      candidate: { report: slower, path: p3 },
      baseline: 'no-such-tag',
      reportDir: dir,
      cwd: dir,
    });
    expect(bad).toMatchObject({ state: 'invalid-baseline', exitCode: 2 });
    expect(bad.text).toMatch(/no-such-tag: no such report file, and no tag/);
  });

  it('orders runs that started in the same second by their recorded start, not their ids', async () => {
    const dir = await store();
    // File names hold the start to the second, then the (random) run id: here the ids sort
    // in the reverse order of the runs' starts.
    const runs = [
      ['zz', 100],
      ['mm', 400],
      ['aa', 800],
    ] as const;
    const reports = [];
    for (const [runId, ms] of runs) {
      const report = syntheticReport({
        seed: ms,
        runId,
        ops: defaultOps(),
        startWallMs: day(5) + ms,
      });
      reports.push(report);
      await writeReport(dir, report);
    }
    // An unreadable file in the same second never wins over a readable one.
    await writeFile(join(dir, 'synthetic', '20250305T100000Z_0corrupt.json'), '{');
    expect((await findLatestRun(dir))?.report.run.id).toBe('aa');
    const scenario = reports[0]!.scenario;
    const before = async (ms: number): Promise<string | undefined> =>
      (await findComparableRunBefore(dir, scenario, day(5) + ms)).found?.report.run.id;
    expect(await before(900)).toBe('aa');
    expect(await before(700)).toBe('mm');
    expect(await before(300)).toBe('zz');
    const latest = await findComparableRunBefore(dir, scenario, day(5) + 900, {
      excludeRun: { id: 'aa', start: reports[2]!.run.start },
    });
    expect(latest.found?.report.run.id).toBe('mm');
    expect(latest.skipped.map((s) => s.reason)).toEqual([]);
  });

  it('prunes by count and age from file names, sparing protected reports', async () => {
    const dir = await store();
    const paths: string[] = [];
    for (let d = 1; d <= 4; d++) {
      paths.push(
        await writeReport(
          dir,
          syntheticReport({
            seed: d,
            runId: `r${d}`,
            ops: defaultOps(),
            durationMs: 1000,
            startWallMs: day(d),
          }),
        ),
      );
    }
    await writeFile(paths[1]!, 'corrupt');
    const removed = await pruneReports(dir, {
      keep: 1,
      nowMs: day(10),
      protect: new Set([paths[0]!]),
    });
    expect(removed).toEqual([paths[1]!, paths[2]!]);
    expect(
      await pruneReports(dir, {
        olderThanMs: 7 * 86_400_000,
        nowMs: day(10),
        protect: new Set(),
        dryRun: true,
      }),
    ).toEqual([paths[0]!]);
    expect((await listStoredReports(dir)).map((r) => r.runId)).toEqual(['r1', 'r4']);
  });
});
