// `churn report`, in-process: every format, -o, tags (moved, bad tags file), colour and NO_COLOR;
// bad files (cut, missing, a directory, a histogram that does not decode) exit 2 naming the file.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import { parseReport } from '../../src/report/read.js';
import type { Report } from '../../src/report/schema.js';
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
  return churnWith({}, ...args);
}

async function churnWith(
  options: { env?: Record<string, string>; isTTY?: boolean },
  ...args: string[]
) {
  const io = bufferIo({ cwd: store.cwd, ...options });
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
    // Re-tagging says that the tag moved, and from where.
    const other = relative(
      store.cwd,
      await store.add(
        syntheticReport({
          seed: 2,
          runId: 'rep002',
          ops: defaultOps(),
          durationMs: 1000,
          startWallMs: Date.UTC(2025, 2, 2),
        }),
      ),
    );
    expect((await churn('report', 'tag', other, 'release-1.7')).stdout).toBe(
      `tag release-1.7 moved from ${join(store.cwd, path)} to ${join(store.cwd, other)}\n`,
    );
    expect((await churn('report', 'tag', other, 'release-1.7')).stdout).toBe(
      `release-1.7 already tags ${join(store.cwd, other)}\n`,
    );
    expect(await churn('report', 'untag', 'release-1.7')).toMatchObject({ code: 0 });
    expect((await churn('report', 'tags')).stdout).toMatch(/^no tags/);
    expect((await churn('report', 'untag', 'release-1.7')).code).toBe(2);
  });

  it('says what is wrong with a bad tags file, and where', async () => {
    const tagsFile = join(store.dir, 'tags.json');
    await writeFile(tagsFile, '[');
    const cut = await churn('report', 'tags');
    expect(cut.code).toBe(2);
    expect(cut.stderr).toBe(
      `churn: ${tagsFile}: not a churn tags file: the JSON ends early (cut off while written?); fix or remove it\n`,
    );
    await writeFile(tagsFile, '{"version": 1, "tags": {"a": {"path": 3}}}');
    expect((await churn('report', 'tags')).stderr).toMatch(
      /tags\.json: not a churn tags file: tags\.a\.path: .*expected string.*; fix or remove it\n$/,
    );
    await writeFile(tagsFile, '{"version": 1,\n "tags": x}');
    expect((await churn('report', 'tags')).stderr).toMatch(
      /tags\.json: not a churn tags file: not JSON at line 2, column 10: unexpected 'x'/,
    );
    await rm(tagsFile);
  });

  it('colours the summary on a terminal, unless NO_COLOR is set', async () => {
    const coloured = (text: string): boolean => stripVTControlCharacters(text) !== text;
    expect(coloured((await churnWith({ isTTY: true }, 'report', path)).stdout)).toBe(true);
    const plain = await churnWith({ isTTY: true, env: { NO_COLOR: '1' } }, 'report', path);
    expect(plain.stdout).toMatch(/rep001/);
    expect(coloured(plain.stdout)).toBe(false);
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
    await mkdir(join(store.cwd, 'somedir.json'));
    const dir = await churn('report', 'somedir.json');
    expect(dir.code).toBe(2);
    expect(dir.stderr).toBe(
      'churn: somedir.json: cannot read the report: is a directory, not a report file\n',
    );
    expect((await churn('report', path, 'extra')).code).toBe(2);
  });

  it('refuses a histogram that does not decode, in every format, naming file and field', async () => {
    const doc = JSON.parse(await readFile(join(store.cwd, path), 'utf8')) as Report;
    const histogram = doc.operations.start!.histogram!;
    await writeFile(
      join(store.cwd, 'bad.json'),
      JSON.stringify({
        ...doc,
        operations: {
          ...doc.operations,
          start: { ...doc.operations.start, histogram: histogram.slice(0, 40) },
        },
      }),
    );
    for (const format of ['terminal', 'html', 'md', 'junit', 'json']) {
      const bad = await churn('report', 'bad.json', '--format', format);
      expect(bad.code, format).toBe(2);
      expect(bad.stderr, format).toBe(
        'churn: bad.json: operations.start.histogram: not an encoded HDR histogram (truncated)\n',
      );
    }
  });
});
