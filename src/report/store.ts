/**
 * The report store: `<dir>/<scenario>/<start>_<run-id>.json`, one file per run, written
 * atomically (temporary file, fsync, rename) so a reader never sees half a report.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';
import type { Report } from './schema.js';

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
  const path = reportPath(dir, report);
  await writeFileAtomic(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
