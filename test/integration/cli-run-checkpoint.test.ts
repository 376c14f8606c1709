// Checkpoints (issue 12): `churn run --checkpoint-interval` writes the report so far, marked a
// checkpoint, where the final report goes. The real CLI from dist against the built-in core: a
// kill -9 mid-run leaves the last checkpoint on disk, valid against the committed JSON Schema
// and the reader, marked partial and readable by churn report and churn history; a run that
// finishes replaces its checkpoints with its final report at the same path.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readReport } from '../../src/report/read.js';
import type { Report } from '../../src/report/schema.js';
import { runChurn, startChurn, type ChurnProcess } from '../support/churn-process.js';
import { eventually, processesWithMarker, tempDir } from '../support/core-fixtures.js';

const schemaPath = fileURLToPath(new URL('../../schema/report.schema.json', import.meta.url));

/** Files in the store's scenario directory (reports, and any temporary file left behind). */
async function storeFiles(dir: string, scenario: string): Promise<string[]> {
  return (await readdir(join(dir, scenario)).catch(() => [] as string[])).sort();
}

/** The report at `path` parsed, or undefined while there is none (or it does not parse). */
async function reportAt(path: string): Promise<Report | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Report;
  } catch {
    return undefined;
  }
}

function marker(): string {
  return `4${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
}

/** Starts `churn run` on a scenario of one closed phase, checkpointing every second. */
async function startRun(
  name: string,
  duration: string,
): Promise<{ dir: string; out: string; p: ChurnProcess; m: string }> {
  const dir = await tempDir('churn-checkpoint-');
  const tmp = await tempDir('churn-checkpoint-tmp-');
  const m = marker();
  const file = join(dir, 'scenario.yaml');
  await writeFile(
    file,
    `name: ${name}\nworkload:\n  command: [sleep, "${m}"]\nload:\n  phases: [{ duration: ${duration}, concurrency: 2 }]\n`,
  );
  const p = startChurn(
    // The harness-bound mark is tested on its own (cli-run-verdicts); on a loaded CI node it
    // would fail the run over churn's loop lag, which says nothing about its checkpoints.
    [
      'run',
      file,
      '--checkpoint-interval',
      '1s',
      '--report-dir',
      'out',
      '--quiet',
      '--allow',
      'harness-bound',
    ],
    dir,
    { env: { TMPDIR: tmp } },
  );
  return { dir, out: join(dir, 'out'), p, m };
}

/** Waits (generously) until the store holds a checkpoint with `minIndex` or more. */
async function awaitCheckpoint(
  out: string,
  scenario: string,
  p: ChurnProcess,
  minIndex: number,
): Promise<{ path: string; report: Report }> {
  let found: { path: string; report: Report } | undefined;
  const seen = await eventually(async () => {
    if (p.child.exitCode !== null) throw new Error(`churn run exited early: ${p.stderr()}`);
    for (const f of await storeFiles(out, scenario)) {
      if (!f.endsWith('.json') || f.startsWith('.')) continue;
      const path = join(out, scenario, f);
      const report = await reportAt(path);
      const index = report?.run.checkpoint?.index ?? 0;
      if (report !== undefined && index >= minIndex) found = { path, report };
    }
    return found !== undefined;
  }, 45_000);
  if (!seen || found === undefined) throw new Error(`no checkpoint ${minIndex}: ${p.stderr()}`);
  return found;
}

describe('churn run --checkpoint-interval', () => {
  it('kill -9 mid-run leaves the last checkpoint: valid, marked partial, readable by report and history', async () => {
    const { dir, out, p, m } = await startRun('checkpointed', '60s');
    const { path } = await awaitCheckpoint(out, 'checkpointed', p, 2);
    p.child.kill('SIGKILL');
    expect(await p.exited).toBe(137);
    // The core stops its tasks once its harness is gone; nothing of the run is left running.
    expect(await eventually(() => processesWithMarker(m).length === 0, 15_000)).toBe(true);

    // One report file. (A kill during a write can leave that write's hidden temporary file
    // beside it, `.<name>.<random>.tmp`, which no reader lists; the report is whole either way.)
    const files = (await storeFiles(out, 'checkpointed')).filter((f) => !f.startsWith('.'));
    expect(files).toEqual([path.slice(path.lastIndexOf('/') + 1)]);
    const text = await readFile(path, 'utf8');
    const raw = JSON.parse(text) as unknown;
    // Valid against the committed JSON Schema (what other tools validate with) …
    const jsonSchema = JSON.parse(await readFile(schemaPath, 'utf8')) as Parameters<
      typeof z.fromJSONSchema
    >[0];
    const checked = z.fromJSONSchema(jsonSchema).safeParse(raw);
    expect(checked.error?.issues ?? []).toEqual([]);
    // … and read by churn's own reader (migrate, validate, decode every histogram).
    const report = await readReport(path);
    expect(report.run.partial).toBe(true);
    expect(report.run.exitReason).toBe('running');
    expect(report.run.endedBy).toBeNull();
    const checkpoint = report.run.checkpoint!;
    expect(checkpoint.index).toBeGreaterThanOrEqual(2);
    expect(checkpoint.intervalMs).toBe(1000);
    expect(checkpoint.at).toBe(report.run.end);
    expect(report.cycles.succeeded).toBeGreaterThan(0);
    expect(report.operations.cycle!.count).toBe(report.cycles.succeeded);
    expect(report.operations.cycle!.histogram).not.toBeNull();
    expect(report.timeline.intervals.length).toBeGreaterThan(0);

    const rendered = await runChurn(['report', path], dir);
    expect(rendered.stderr).toBe('');
    expect(rendered.code).toBe(0);
    expect(rendered.stdout).toContain('checkpoint (partial)');
    expect(rendered.stdout).toContain(
      `checkpoint ${checkpoint.index} at ${checkpoint.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}`,
    );
    expect(rendered.stdout).toContain('the run had not finished when this was written');

    const history = await runChurn(['history', '--report-dir', 'out'], dir);
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/checkpoint\*/);
    expect(history.stdout).toContain('checkpoint: the last checkpoint of a run');
  });

  it('a run that finishes replaces its checkpoints with its final report, at the same path', async () => {
    const { out, p } = await startRun('finishing', '6s');
    const { path, report: checkpoint } = await awaitCheckpoint(out, 'finishing', p, 1);
    expect(checkpoint.run.exitReason).toBe('running');
    expect(await p.exited, p.stderr()).toBe(0);
    // --quiet prints the report's path: the checkpoint's.
    expect(p.stdout().trim()).toBe(path);
    expect(await storeFiles(out, 'finishing')).toHaveLength(1);
    const report = await readReport(path);
    expect(report.run.exitReason).toBe('completed');
    expect(report.run.partial).toBe(false);
    expect(report.run.checkpoint).toBeNull();
    expect(report.run.id).toBe(checkpoint.run.id);
    expect(report.run.start).toBe(checkpoint.run.start);
    expect(report.cycles.succeeded).toBeGreaterThanOrEqual(checkpoint.cycles.succeeded);
  });
});
