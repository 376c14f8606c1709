/**
 * The report store: `<dir>/<scenario>/<start>_<run-id>.json`, one file per run, written
 * atomically (temporary file, fsync, rename) so a reader never sees half a report; tags in
 * `<dir>/tags.json` (tags.ts). Listing and retention work from file names.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';
import { ChurnError } from '../common/errors.js';
import type { Report } from './schema.js';
import { serializeReport } from './serialize.js';

/** `2025-01-31T12:03:04.567Z` → `20250131T120304Z`: sortable, and safe in a file name. */
export function compactIso(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
}

/** A path segment from `text`: characters other than `A-Za-z0-9_.-` become `_`, no leading dot. */
export function safeSegment(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
  return cleaned === '' ? '_' : cleaned;
}

/** Where {@link writeReport} puts `report` under `dir`. */
export function reportPath(dir: string, report: Report): string {
  return join(
    dir,
    safeSegment(report.run.scenario),
    `${compactIso(report.run.start)}_${safeSegment(report.run.id)}.json`,
  );
}

/**
 * Writes `report` as pretty JSON to {@link reportPath} atomically, creating directories; returns
 * the path. Throws IO when it cannot.
 */
export async function writeReport(dir: string, report: Report): Promise<string> {
  return writeSerializedReport(dir, report, serializeReport(report));
}

/**
 * Writes `text`, the serialized `report` (whole, or as slices in order), to {@link reportPath}
 * atomically; returns the path. Throws IO when it cannot.
 */
export async function writeSerializedReport(
  dir: string,
  report: Report,
  text: string | readonly string[],
): Promise<string> {
  const path = reportPath(dir, report);
  await writeFileAtomic(path, text);
  return path;
}

/** A report file in the store, as its path tells. */
export interface StoredReport {
  readonly path: string;
  /** The scenario directory (the scenario name, made path-safe). */
  readonly scenarioDir: string;
  /** Start as in the file name, `20250131T120304Z`. */
  readonly startCompact: string;
  readonly runId: string;
}

const reportFileName = /^(\d{8}T\d{6}Z)_(.+)\.json$/;

/**
 * The reports under `dir`, oldest first (by start, then name), optionally of one scenario.
 * Only files named `<start>_<run-id>.json` in scenario directories count; a missing `dir` is
 * an empty store. Reads names only, never the files.
 */
export async function listStoredReports(
  dir: string,
  options: { readonly scenario?: string } = {},
): Promise<StoredReport[]> {
  let scenarioDirs: string[];
  try {
    scenarioDirs = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ChurnError('IO', `cannot list the report store ${dir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (options.scenario !== undefined) {
    const wanted = safeSegment(options.scenario);
    scenarioDirs = scenarioDirs.filter((d) => d === wanted);
  }
  const out: StoredReport[] = [];
  for (const scenarioDir of scenarioDirs) {
    for (const name of await readdir(join(dir, scenarioDir))) {
      const match = reportFileName.exec(name);
      if (match === null) continue;
      out.push({
        path: join(dir, scenarioDir, name),
        scenarioDir,
        startCompact: match[1]!,
        runId: match[2]!,
      });
    }
  }
  return out.sort(
    (a, b) =>
      a.startCompact.localeCompare(b.startCompact) ||
      a.scenarioDir.localeCompare(b.scenarioDir) ||
      a.path.localeCompare(b.path),
  );
}

/** `20250131T120304Z` → ms since the epoch. */
export function compactIsoToMs(compact: string): number {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(compact);
  if (m === null) return Number.NaN;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

/** Options of {@link pruneReports}. */
export interface PruneOptions {
  /** Keep the newest this many reports of each scenario. */
  readonly keep?: number;
  /** Remove reports that started more than this long before `nowMs`. */
  readonly olderThanMs?: number;
  readonly nowMs: number;
  readonly scenario?: string;
  /** Paths never removed (tagged baselines). */
  readonly protect: ReadonlySet<string>;
  /** Say what would go, remove nothing. */
  readonly dryRun?: boolean;
}

/**
 * Retention: removes, per scenario, reports beyond the newest `keep` and reports older than
 * `olderThanMs` (either or both), never a protected one. Returns the removed (or, with dryRun,
 * removable) paths. Decides from file names alone, so an unreadable report can still be pruned.
 */
export async function pruneReports(dir: string, options: PruneOptions): Promise<string[]> {
  const all = await listStoredReports(dir, options);
  const byScenario = new Map<string, StoredReport[]>();
  for (const r of all) byScenario.set(r.scenarioDir, [...(byScenario.get(r.scenarioDir) ?? []), r]);
  const doomed: string[] = [];
  for (const reports of byScenario.values()) {
    const newestFirst = [...reports].reverse();
    newestFirst.forEach((r, index) => {
      if (options.protect.has(r.path)) return;
      const tooMany = options.keep !== undefined && index >= options.keep;
      const tooOld =
        options.olderThanMs !== undefined &&
        options.nowMs - compactIsoToMs(r.startCompact) > options.olderThanMs;
      if (tooMany || tooOld) doomed.push(r.path);
    });
  }
  doomed.sort();
  if (options.dryRun !== true) {
    for (const path of doomed) await rm(path, { force: true });
  }
  return doomed;
}
