// `churn merge`, in-process: counts add, the merged report is valid; mismatches, runs that would
// count twice and histograms that do not decode exit 2.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import { parseReport } from '../../src/report/read.js';
import type { Report } from '../../src/report/schema.js';
import { bufferIo } from '../support/cli-io.js';
import { tempStore, type TempStore } from '../support/report-store.js';
import { defaultOps, syntheticReport } from '../support/synthetic-report.js';

const parts = [1, 2, 3].map((i) =>
  syntheticReport({
    seed: i,
    runId: `node${i}`,
    ops: defaultOps(),
    durationMs: 2000,
    ratePerSec: 50 * i,
  }),
);

let store: TempStore;
let paths: string[];
beforeAll(async () => {
  store = await tempStore();
  paths = [];
  for (const p of parts) paths.push(relative(store.cwd, await store.add(p)));
});
afterAll(() => store.cleanup());

async function churn(...args: string[]) {
  const io = bufferIo({ cwd: store.cwd });
  const code = await runCli(args, io.io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('churn merge', () => {
  it('adds the parts into -o, with counts that are the sums', async () => {
    const { code, stdout, stderr } = await churn(
      'merge',
      ...paths,
      '-o',
      'cluster.json',
      '--run-id',
      'cluster',
    );
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/merged 3 reports: .*cluster\.json\n$/);
    const merged = parseReport(
      await readFile(join(store.cwd, 'cluster.json'), 'utf8'),
      'cluster.json',
    );
    expect(merged.run.id).toBe('cluster');
    for (const op of Object.keys(parts[0]!.operations) as (keyof typeof merged.operations)[]) {
      expect(merged.operations[op]!.count).toBe(
        parts.reduce((s, p) => s + p.operations[op]!.count, 0),
      );
    }
    expect(merged.mergedFrom!.map((p) => p.id)).toEqual(['node1', 'node2', 'node3']);
  });

  it('writes into the store without -o', async () => {
    const { code, stdout } = await churn('merge', paths[0]!, paths[1]!, '--quiet');
    expect(code).toBe(0);
    expect(stdout).toMatch(/reports\/synthetic\/20250301T100000Z_merged-[0-9a-f]{8}\.json\n$/);
  });

  it('warns, naming the parts, when they did not run at the same time', async () => {
    const later = syntheticReport({
      seed: 9,
      runId: 'later',
      ops: defaultOps(),
      durationMs: 2000,
      startWallMs: Date.UTC(2025, 2, 1, 11, 0, 0),
    });
    const laterPath = relative(store.cwd, await store.add(later));
    const { code, stdout, stderr } = await churn(
      'merge',
      paths[0]!,
      laterPath,
      '-o',
      'apart.json',
      '--quiet',
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/apart\.json\n$/);
    expect(stderr).toBe(
      `churn merge: warning: the parts did not run at the same time (${paths[0]!} and ${laterPath} overlap 0% of the shorter run): throughput adds and timelines align as if they had; merge parts of one run\n`,
    );
    const merged = parseReport(await readFile(join(store.cwd, 'apart.json'), 'utf8'), 'apart.json');
    expect(merged.warnings[0]).toMatch(/^the parts did not run at the same time/);
  });

  it('refuses mismatched scenarios and bad files with exit 2', async () => {
    const other = relative(
      store.cwd,
      await store.add(
        syntheticReport({
          seed: 7,
          runId: 'x',
          ops: defaultOps(),
          durationMs: 2000,
          scenarioName: 'other',
        }),
      ),
    );
    const mismatch = await churn('merge', paths[0]!, other, '-o', 'x.json');
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(
      /cannot merge runs of different scenarios: scenario\.name is "synthetic"/,
    );
    await writeFile(
      join(store.cwd, 'future.json'),
      (await readFile(join(store.cwd, paths[0]!), 'utf8')).replace(
        '"schemaVersion": 1',
        '"schemaVersion": 2',
      ),
    );
    const future = await churn('merge', paths[0]!, 'future.json', '-o', 'x.json');
    expect(future.code).toBe(2);
    expect(future.stderr).toMatch(/future\.json: schemaVersion 2 is newer than this churn reads/);
  });

  it('refuses a run given twice, or a merged report with its own parts (exit 2)', async () => {
    const twice = await churn('merge', paths[0]!, paths[0]!, '-o', 'dup.json');
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain(
      `cannot merge: run node1 (started 2025-03-01T10:00:00.000Z) would count twice: it is in ${paths[0]!}, given more than once`,
    );
    // `churn merge reports/glob/*.json` twice: the second sees the first's output.
    for (const seed of [21, 22]) {
      await store.add(
        syntheticReport({ seed, ops: defaultOps(), durationMs: 1000, scenarioName: 'glob' }),
      );
    }
    const dir = join(store.dir, 'glob');
    const all = async () => (await readdir(dir)).map((f) => relative(store.cwd, join(dir, f)));
    const before = await all();
    const first = await churn('merge', ...before, '--quiet');
    expect(first.code).toBe(0);
    const again = await churn('merge', ...(await all()), '--quiet');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      /would count twice: it is in reports\/glob\/\S+_merged-[0-9a-f]{8}\.json \(merged from syn21, syn22\) and in reports\/glob\/\S+_syn2[12]\.json/,
    );
    expect(await all()).toHaveLength(before.length + 1);
  });

  it('refuses a report whose histogram does not decode, naming file and field', async () => {
    const doc = JSON.parse(await readFile(join(store.cwd, paths[1]!), 'utf8')) as Report;
    const cut = doc.operations.start!.histogram!.slice(0, 40);
    await writeFile(
      join(store.cwd, 'bad.json'),
      JSON.stringify({
        ...doc,
        operations: { ...doc.operations, start: { ...doc.operations.start, histogram: cut } },
      }),
    );
    const bad = await churn('merge', paths[0]!, 'bad.json', '-o', 'x.json');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'churn: bad.json: operations.start.histogram: not an encoded HDR histogram (truncated)\n',
    );
  });
});
