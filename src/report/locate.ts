/**
 * Finding reports by what users type: a file path, a tag name, or `latest` (the previous good
 * run of a scenario in the store). Shared by compare, report, history and `churn run
 * --baseline`.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ChurnError } from '../common/errors.js';
import { readReport } from './read.js';
import type { Report } from './schema.js';
import { listStoredReports } from './store.js';
import { readTags, type Tag } from './tags.js';

/** A report read from somewhere, with a name for messages. */
export interface LocatedReport {
  readonly report: Report;
  /** Absolute path of the file. */
  readonly path: string;
  /** What to call it in output: the argument as typed, or `tag NAME (path)`. */
  readonly source: string;
}

/**
 * The report `ref` names: an existing file (relative to `cwd`), else a tag of the store at
 * `dir`. Throws REPORT_INVALID when it is neither (listing the tags) or the file is bad.
 */
export async function locateReport(ref: string, dir: string, cwd: string): Promise<LocatedReport> {
  const path = resolve(cwd, ref);
  const kind = await fileKind(path);
  if (kind === 'file') return { report: await readReport(path, ref), path, source: ref };
  const looksLikePath = ref.includes('/') || ref.endsWith('.json');
  const tags = looksLikePath ? new Map<string, Tag>() : await readTags(dir);
  const tag = tags.get(ref);
  if (tag !== undefined) {
    return { report: await readReport(tag.path), path: tag.path, source: `${ref} (${tag.path})` };
  }
  if (kind === 'directory') {
    throw new ChurnError(
      'REPORT_INVALID',
      `${ref}: cannot read the report: is a directory, not a report file`,
    );
  }
  const known = [...tags.keys()];
  throw new ChurnError(
    'REPORT_INVALID',
    looksLikePath
      ? `${ref}: cannot read the report: no such file`
      : `${ref}: no such report file, and no tag of that name in ${dir}${known.length > 0 ? ` (tags: ${known.join(', ')})` : ' (no tags yet: churn report tag FILE NAME)'}`,
  );
}

/**
 * The newest good run (complete, not partial) of `report`'s scenario in the store at `dir`
 * that started before it, other than `excludePath`; undefined when there is none. Only the
 * files of that scenario that are candidates are read, newest first.
 */
export async function findPreviousGoodRun(
  dir: string,
  report: Report,
  excludePath?: string,
): Promise<LocatedReport | undefined> {
  return findGoodRunBefore(dir, report.run.scenario, Date.parse(report.run.start), {
    ...(excludePath !== undefined ? { excludePath } : {}),
    excludeRun: { id: report.run.id, start: report.run.start },
  });
}

/**
 * The newest good run (complete, not partial) of scenario `scenario` in the store at `dir`
 * that started before `beforeMs` (ms since the epoch), other than `excludePath` and the run
 * `excludeRun`; undefined when there is none. Reads candidates newest first.
 */
export async function findGoodRunBefore(
  dir: string,
  scenario: string,
  beforeMs: number,
  options: {
    readonly excludePath?: string;
    readonly excludeRun?: { readonly id: string; readonly start: string };
  } = {},
): Promise<LocatedReport | undefined> {
  const stored = await listStoredReports(dir, { scenario });
  const excluded = options.excludePath === undefined ? undefined : resolve(options.excludePath);
  for (const entry of [...stored].reverse()) {
    const path = resolve(entry.path);
    if (path === excluded) continue;
    const other = await readReport(entry.path);
    const run = options.excludeRun;
    if (run !== undefined && other.run.id === run.id && other.run.start === run.start) continue;
    if (!(Date.parse(other.run.start) < beforeMs)) continue;
    if (other.run.partial || other.run.scenario !== scenario) continue;
    return { report: other, path, source: entry.path };
  }
  return undefined;
}

/** The newest report in the store at `dir` (of `scenario`, when given); undefined if none. */
export async function findLatestRun(
  dir: string,
  scenario?: string,
): Promise<LocatedReport | undefined> {
  const stored = await listStoredReports(dir, scenario === undefined ? {} : { scenario });
  const last = stored[stored.length - 1];
  if (last === undefined) return undefined;
  return { report: await readReport(last.path), path: resolve(last.path), source: last.path };
}

async function fileKind(path: string): Promise<'file' | 'directory' | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'directory' : undefined;
  } catch {
    return undefined;
  }
}
