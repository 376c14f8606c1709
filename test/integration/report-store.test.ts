import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/report/store.js';
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
