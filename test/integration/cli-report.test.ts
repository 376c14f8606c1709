// `churn report`, in-process: every format, -o, tags; bad files exit 2 naming the file.
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import { parseReport } from '../../src/report/read.js';
import { bufferIo } from '../support/cli-io.js';
import { tempStore, type TempStore } from '../support/report-store.js';
import { defaultOps, syntheticReport } from '../support/synthetic-report.js';

const report = syntheticReport({
  seed: 1,
  runId: 'rep001',
  ops: defaultOps(),
  durationMs: 3000,
  thresholds: [
    {
      source: 'p99(start) < 1ms',
      metric: 'p99',
      op: 'start',
      comparator: '<',
      value: 1,
      actual: 60,
      ok: false,
      abortOnFail: false,
    },
  ],
});

let store: TempStore;
let path: string;
beforeAll(async () => {
  store = await tempStore();
  path = relative(store.cwd, await store.add(report));
});
afterAll(() => store.cleanup());

async function churn(...args: string[]) {
  const io = bufferIo({ cwd: store.cwd });
  const code = await runCli(args, io.io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('churn report', () => {
  it('prints the summary table by default', async () => {
    const { code, stdout } = await churn('report', path);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^churn · synthetic · run rep001 · completed/);
    expect(stdout).toContain('✗ p99(start) < 1ms');
  });

  it.each([
    ['md', /^## churn report: `synthetic`/],
    [
      'junit',
      /^<\?xml version="1\.0"[\s\S]*<failure message="p99\(start\) &lt; 1ms: actual 60\.0ms"/,
    ],
    ['html', /^<!DOCTYPE html>[\s\S]*<svg class="chart"/],
  ])('renders --format %s', async (format, pattern) => {
    const { code, stdout } = await churn('report', path, '--format', format);
    expect(code).toBe(0);
    expect(stdout).toMatch(pattern);
  });

  it('prints the report as validated JSON, and writes to -o', async () => {
    const { stdout } = await churn('report', path, '--format', 'json');
    expect(parseReport(stdout, 'stdout')).toEqual(report);
    const out = await churn('report', path, '--format', 'html', '-o', 'out/run.html');
    expect(out.code).toBe(0);
    expect(await readFile(join(store.cwd, 'out/run.html'), 'utf8')).toMatch(/<\/html>\n$/);
  });

  it('names, lists, uses and removes tags', async () => {
    expect(await churn('report', 'tag', path, 'release-1.7')).toMatchObject({ code: 0 });
    const tags = JSON.parse(await readFile(join(store.dir, 'tags.json'), 'utf8')) as {
      tags: Record<string, { path: string }>;
    };
    expect(tags.tags['release-1.7']!.path).toBe('synthetic/20250301T100000Z_rep001.json');
    expect((await churn('report', 'tags')).stdout).toMatch(
      /^release-1\.7 {2}synthetic {2}run rep001/,
    );
    expect((await churn('report', 'release-1.7', '--format', 'md')).stdout).toContain('`rep001`');
    expect((await churn('report', 'tag', path, '1bad')).code).toBe(2);
    expect(await churn('report', 'untag', 'release-1.7')).toMatchObject({ code: 0 });
    expect((await churn('report', 'tags')).stdout).toMatch(/^no tags/);
    expect((await churn('report', 'untag', 'release-1.7')).code).toBe(2);
  });

  it('refuses bad files with exit 2, naming the file', async () => {
    await writeFile(
      join(store.cwd, 'cut.json'),
      (await readFile(join(store.cwd, path), 'utf8')).slice(0, 300),
    );
    const cut = await churn('report', 'cut.json');
    expect(cut.code).toBe(2);
    expect(cut.stderr).toMatch(/^churn: cut\.json: truncated/);
    const missing = await churn('report', 'missing.json');
    expect(missing.stderr).toMatch(/^churn: missing\.json: cannot read the report: no such file/);
    expect((await churn('report', path, 'extra')).code).toBe(2);
  });
});
