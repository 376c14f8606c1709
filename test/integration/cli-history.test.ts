// `churn history`, in-process: listing with trends, filters, JSON, retention that spares tags.
import { readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import { bufferIo } from '../support/cli-io.js';
import { tempStore, type TempStore } from '../support/report-store.js';
import { defaultOps, syntheticReport } from '../support/synthetic-report.js';

let store: TempStore;
let paths: string[];
beforeEach(async () => {
  store = await tempStore();
  paths = [];
  for (let day = 1; day <= 5; day++) {
    paths.push(
      await store.add(
        syntheticReport({
          seed: day,
          runId: `run0${day}`,
          ops: defaultOps({ start: { scale: day === 5 ? 2 : 1 } }),
          durationMs: 2000,
          startWallMs: Date.UTC(2025, 2, day, 3, 0, 0),
        }),
      ),
    );
  }
  await store.add(
    syntheticReport({
      seed: 9,
      runId: 'other1',
      ops: defaultOps(),
      durationMs: 2000,
      scenarioName: 'other',
    }),
  );
});
afterEach(() => store.cleanup());

async function churn(...args: string[]) {
  const io = bufferIo({ cwd: store.cwd });
  const code = await runCli(args, io.io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('churn history', () => {
  it('lists every scenario, oldest first, with key figures and trends', async () => {
    const { code, stdout } = await churn('history');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^other · 1 run ·/m);
    expect(stdout).toMatch(/^synthetic · 5 runs · cycle p99 \S{5} · cycles\/s \S{5}$/m);
    const lines = stdout.split('\n').filter((l) => /run0\d/.test(l));
    expect(lines.map((l) => /run0\d/.exec(l)![0])).toEqual([
      'run01',
      'run02',
      'run03',
      'run04',
      'run05',
    ]);
    expect(lines[4]).toMatch(/↑/);
  });

  it('filters by scenario and keeps the last N, or prints JSON', async () => {
    const { stdout } = await churn('history', '--scenario', 'synthetic', '--last', '2', '--json');
    const parsed = JSON.parse(stdout) as {
      scenarios: { scenario: string; rows: { runId: string }[] }[];
    };
    expect(parsed.scenarios.map((s) => [s.scenario, s.rows.map((r) => r.runId)])).toEqual([
      ['synthetic', ['run04', 'run05']],
    ]);
  });

  it('prunes by count, never a tagged report', async () => {
    await churn('report', 'tag', relative(store.cwd, paths[0]!), 'baseline');
    const dry = await churn('history', '--prune', '--keep', '2', '--dry-run');
    expect(dry.stdout).toMatch(/would remove 2 reports\n$/);
    expect(await readdir(join(store.dir, 'synthetic'))).toHaveLength(5);
    const { code, stdout } = await churn('history', '--prune', '--keep', '2');
    expect(code).toBe(0);
    expect(stdout).toMatch(/removed 2 reports\n$/);
    expect((await readdir(join(store.dir, 'synthetic'))).sort()).toEqual([
      '20250301T030000Z_run01.json',
      '20250304T030000Z_run04.json',
      '20250305T030000Z_run05.json',
    ]);
    expect(await readdir(join(store.dir, 'other'))).toHaveLength(1);
  });

  it('prunes by age', async () => {
    const { stdout } = await churn(
      'history',
      '--prune',
      '--older-than',
      '1d',
      '--scenario',
      'synthetic',
    );
    expect(stdout).toMatch(/removed 5 reports\n$/);
    expect((await churn('history', '--prune')).code).toBe(2);
    expect((await churn('history', '--prune', '--older-than', '30 days')).stderr).toMatch(
      /write e\.g\. 30d/,
    );
  });

  it('refuses a corrupt report with exit 2, naming it (prune still works)', async () => {
    await writeFile(paths[2]!, '{"schemaVersion": 1, "run": ');
    const { code, stderr } = await churn('history');
    expect(code).toBe(2);
    expect(stderr).toMatch(/reports\/synthetic\/20250303T030000Z_run03\.json: truncated/);
    expect((await churn('history', '--prune', '--keep', '1')).code).toBe(0);
  });

  it('refuses pruning flags without --prune, and echoes a bad number as typed', async () => {
    const keep = await churn('history', '--keep', '3');
    expect(keep.code).toBe(2);
    expect(keep.stderr).toMatch(/^churn: --keep only applies to pruning: add --prune/);
    const both = await churn('history', '--older-than', '30d', '--dry-run');
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(
      /^churn: --older-than, --dry-run only apply to pruning: add --prune/,
    );
    const last = await churn('history', '--last', 'abc');
    expect(last.code).toBe(2);
    expect(last.stderr).toMatch(/^churn: --last "abc": give a whole number, 1 or more/);
    expect((await churn('history', '--prune', '--keep', 'many')).stderr).toMatch(/--keep "many"/);
  });

  it('says which scenarios there are when the one asked for has no reports', async () => {
    const { code, stdout } = await churn('history', '--scenario', 'nope');
    expect(code).toBe(0);
    expect(stdout).toBe('no reports of scenario nope in reports (scenarios: other, synthetic)\n');
  });

  it('shows a run where no cycle succeeded as failed, and the legend only for what is shown', async () => {
    const plain = await churn('history', '--scenario', 'other');
    expect(plain.stdout).not.toMatch(/partial/);
    expect(plain.stdout).not.toMatch(/failed:/);
    await store.add(
      syntheticReport({
        seed: 11,
        runId: 'allbad',
        ops: defaultOps({ run_pod: { errorRate: 1 } }),
        durationMs: 1000,
        scenarioName: 'other',
        startWallMs: Date.UTC(2025, 2, 9),
      }),
    );
    const { stdout } = await churn('history', '--scenario', 'other');
    expect(stdout).toMatch(/^\S+ \S+\s+allbad\s+failed\s/m);
    expect(stdout).toMatch(/failed: completed, but no cycle succeeded \(exit 1\)/);
    expect(stdout).not.toMatch(/partial/);
  });
});
