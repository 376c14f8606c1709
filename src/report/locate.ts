/**
 * Finding reports by what users type: a file path, a tag name, or `latest` (the newest earlier
 * run of a scenario in the store that is comparable: complete, same scenario, same runtime
 * unless a cross-runtime comparison is asked for, not marked). Shared by compare, report,
 * history and `churn run --baseline`.
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { ChurnError, isChurnError } from '../common/errors.js';
import type { Scenario } from '../scenario/schema.js';
import { baselineSkipReason } from './comparable.js';
import { readReport } from './read.js';
import { runtimeIdentity, type RuntimeIdentity } from './runtime-identity.js';
import type { Report } from './schema.js';
import { listStoredReports, type StoredReport } from './store.js';
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

/** A run `--baseline latest` passed over, and why (`partial`, `different load…`, a mark). */
export interface SkippedRun {
  readonly runId: string;
  /** The file, as the store lists it. */
  readonly source: string;
  readonly reason: string;
}

/** What `--baseline latest` found: the baseline (if any) and the newer runs it skipped. */
export interface LatestComparable {
  readonly found: LocatedReport | undefined;
  /** Newest first: the runs newer than `found` (all examined runs when none was found). */
  readonly skipped: readonly SkippedRun[];
}

/** Options of {@link findComparableRunBefore}. */
export interface FindComparableOptions {
  readonly excludePath?: string;
  readonly excludeRun?: { readonly id: string; readonly start: string };
  /** Accept runs marked harness-bound or overloaded. Default false. */
  readonly allowMarked?: boolean;
  /** Accept only runs of this runtime (driver, name, handler); default any. */
  readonly runtime?: RuntimeIdentity;
  /** Accept runs of any runtime (see baselineSkipReason). Default false. */
  readonly acrossRuntimes?: boolean;
}

/**
 * The newest run in the store at `dir` that can be the baseline of `report` (see
 * {@link findComparableRunBefore}), other than itself and `excludePath`: a run of the same
 * runtime as `report` (driver, name, handler) unless `acrossRuntimes`.
 */
export async function findPreviousGoodRun(
  dir: string,
  report: Report,
  excludePath?: string,
  options: { readonly allowMarked?: boolean; readonly acrossRuntimes?: boolean } = {},
): Promise<LatestComparable> {
  return findComparableRunBefore(dir, report.scenario, Date.parse(report.run.start), {
    ...(excludePath !== undefined ? { excludePath } : {}),
    excludeRun: { id: report.run.id, start: report.run.start },
    ...(options.allowMarked !== undefined ? { allowMarked: options.allowMarked } : {}),
    ...(options.acrossRuntimes === true
      ? { acrossRuntimes: true }
      : { runtime: runtimeIdentity(report) }),
  });
}

/**
 * The newest run of `scenario` in the store at `dir` that started before `beforeMs` (ms since
 * the epoch) and is comparable: complete, the same scenario by the comparability rules
 * (comparable.ts), of `runtime` when given, and not marked harness-bound or overloaded (unless
 * `allowMarked`). Names the newer runs it skipped and why; a report that cannot be read is
 * skipped as `unreadable`.
 * Reads candidates newest first, and stops at the first comparable one.
 */
export async function findComparableRunBefore(
  dir: string,
  scenario: Scenario,
  beforeMs: number,
  options: FindComparableOptions = {},
): Promise<LatestComparable> {
  const stored = await listStoredReports(dir, { scenario: scenario.name });
  const excluded = options.excludePath === undefined ? undefined : resolve(options.excludePath);
  const skipped: SkippedRun[] = [];
  for await (const { entry, report: other } of readNewestFirst(
    stored.filter((e) => resolve(e.path) !== excluded),
  )) {
    const path = resolve(entry.path);
    if (other === undefined) {
      skipped.push({ runId: basename(entry.path), source: entry.path, reason: 'unreadable' });
      continue;
    }
    const run = options.excludeRun;
    if (run !== undefined && other.run.id === run.id && other.run.start === run.start) continue;
    if (!(Date.parse(other.run.start) < beforeMs)) continue;
    if (other.run.scenario !== scenario.name) continue;
    const reason = baselineSkipReason(other, scenario, options);
    if (reason !== undefined) {
      skipped.push({ runId: other.run.id, source: entry.path, reason });
      continue;
    }
    return { found: { report: other, path, source: entry.path }, skipped };
  }
  return { found: undefined, skipped };
}

/**
 * `skipped 2 newer runs: 1a2b3c (partial), 4d5e6f (different load.phases[0].concurrency)`
 * (at most `limit` named, then `and N more`); '' when none was skipped.
 */
export function skippedRunsText(skipped: readonly SkippedRun[], newer: boolean, limit = 5): string {
  if (skipped.length === 0) return '';
  const named = skipped.slice(0, limit).map((s) => `${s.runId} (${s.reason})`);
  if (skipped.length > limit) named.push(`and ${skipped.length - limit} more`);
  const runs = `${skipped.length}${newer ? ' newer' : ''} run${skipped.length === 1 ? '' : 's'}`;
  return `skipped ${runs}: ${named.join(', ')}`;
}

/** The newest report in the store at `dir` (of `scenario`, when given); undefined if none. */
export async function findLatestRun(
  dir: string,
  scenario?: string,
): Promise<LocatedReport | undefined> {
  const stored = await listStoredReports(dir, scenario === undefined ? {} : { scenario });
  const last = stored[stored.length - 1];
  if (last === undefined) return undefined;
  const sameSecond = stored.filter((e) => e.startCompact === last.startCompact);
  if (sameSecond.length === 1) {
    return { report: await readReport(last.path), path: resolve(last.path), source: last.path };
  }
  for await (const { entry, report } of readNewestFirst(sameSecond)) {
    if (report !== undefined) return { report, path: resolve(entry.path), source: entry.path };
  }
  // None of the newest second's reports can be read: say why for the one the name put last.
  return { report: await readReport(last.path), path: resolve(last.path), source: last.path };
}

/** A stored report and its contents; `report` is undefined when the file cannot be read. */
interface ReadStoredReport {
  readonly entry: StoredReport;
  readonly report: Report | undefined;
}

/**
 * Reads `stored` (oldest first, as listStoredReports orders it) newest first. A file name holds
 * its run's start to the second only, so runs that started in the same second are ordered by
 * the start their reports record (to the millisecond), not by their random run ids; unreadable
 * ones come last in their second. Reads lazily: a caller that stops early reads no further.
 */
async function* readNewestFirst(
  stored: readonly StoredReport[],
): AsyncGenerator<ReadStoredReport, void, undefined> {
  let end = stored.length;
  while (end > 0) {
    const second = stored[end - 1]!.startCompact;
    let begin = end - 1;
    while (begin > 0 && stored[begin - 1]!.startCompact === second) begin -= 1;
    const group = stored.slice(begin, end).reverse();
    end = begin;
    if (group.length === 1) {
      yield { entry: group[0]!, report: await tryReadReport(group[0]!.path) };
      continue;
    }
    const read: ReadStoredReport[] = [];
    for (const entry of group) read.push({ entry, report: await tryReadReport(entry.path) });
    // Stable: equal starts keep the names' order, newest name first.
    yield* read.sort((a, b) => {
      const [ma, mb] = [startMs(a), startMs(b)];
      return ma === mb ? 0 : ma < mb ? 1 : -1;
    });
  }
}

function startMs(r: ReadStoredReport): number {
  const ms = r.report === undefined ? Number.NaN : Date.parse(r.report.run.start);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/** The report at `path`, or undefined when it is not a readable report (any ChurnError). */
async function tryReadReport(path: string): Promise<Report | undefined> {
  try {
    return await readReport(path);
  } catch (err) {
    if (!isChurnError(err)) throw err;
    return undefined;
  }
}

async function fileKind(path: string): Promise<'file' | 'directory' | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'directory' : undefined;
  } catch {
    return undefined;
  }
}
