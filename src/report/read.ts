/**
 * The one way churn reads a report: file → text → JSON → migrated to the current schema version
 * → validated against schema.ts. Every failure is a REPORT_INVALID ChurnError whose message
 * starts with the file and says what is wrong: unreadable, empty, truncated, not JSON, not a
 * report, of a newer schema version, the first fields of the wrong shape, or a histogram that
 * does not decode.
 */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { ChurnError } from '../common/errors.js';
import { Distribution } from './distribution.js';
import { findJsonSyntaxError } from './json-syntax.js';
import { upgradeReportDocument } from './migrate.js';
import { reportSchema, type Report } from './schema.js';

/** Options of {@link readReport} and {@link parseReport}. */
export interface ReadReportOptions {
  /**
   * Decode every histogram to check it (default true). Only a reader that never touches a
   * histogram (the `history` listing) turns it off: decoding is most of the cost of reading a
   * long run's report (~0.15 s for one hour of 450 intervals).
   */
  readonly checkHistograms?: boolean;
}

/**
 * Reads, migrates and validates the report at `path`; throws REPORT_INVALID naming the file
 * (as `label`, by default the path).
 */
export async function readReport(
  path: string,
  label: string = path,
  options: ReadReportOptions = {},
): Promise<Report> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory, not a report file'
          : (err as Error).message;
    throw new ChurnError('REPORT_INVALID', `${label}: cannot read the report: ${why}`, {
      cause: err,
    });
  }
  return parseReport(text, label, options);
}

/**
 * Parses report JSON `text` (from `where`, a file name for messages): migrates older schema
 * versions, refuses newer ones, validates the shape. Throws REPORT_INVALID.
 */
export function parseReport(text: string, where: string, options: ReadReportOptions = {}): Report {
  const fail = (message: string, cause?: unknown): ChurnError =>
    new ChurnError('REPORT_INVALID', `${where}: ${message}`, { cause });
  if (text.trim() === '') throw fail('empty file: not a churn report');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw fail(explainJsonError(text, err as Error), err);
  }
  const upgraded = upgradeReportDocument(doc, where);
  const parsed = reportSchema.safeParse(upgraded);
  if (!parsed.success) throw fail(describeIssues(parsed.error.issues, upgraded));
  const report = parsed.data as unknown as Report;
  if (options.checkHistograms !== false) checkHistograms(report, where);
  return report;
}

/**
 * Decodes every histogram of `report`, so that a corrupt one (cut short, say, yet still
 * base64) is refused here, naming the file and field, rather than failing later in a renderer
 * or a merge. Throws REPORT_INVALID.
 */
function checkHistograms(report: Report, where: string): void {
  const check = (text: string | null, path: string): void => {
    if (text !== null) Distribution.check(text, `${where}: ${path}`);
  };
  const checkOps = (ops: Report['operations'], path: string): void => {
    for (const [op, o] of Object.entries(ops)) check(o.histogram, `${path}.${op}.histogram`);
  };
  checkOps(report.operations, 'operations');
  for (const [name, w] of Object.entries(report.workloads)) {
    checkOps(w.operations, `workloads.${name}.operations`);
  }
  check(report.scheduling.lagHistogram, 'scheduling.lagHistogram');
  check(report.scheduling.serviceTimeHistogram, 'scheduling.serviceTimeHistogram');
  report.timeline.intervals.forEach((interval, i) => {
    for (const [op, series] of Object.entries(interval.ops)) {
      check(series.histogram, `timeline.intervals[${i}].ops.${op}.histogram`);
    }
    if (interval.lag !== null)
      check(interval.lag.histogram, `timeline.intervals[${i}].lag.histogram`);
  });
}

/**
 * What is wrong with JSON that did not parse, in one line: truncated (it ends inside a value),
 * or not JSON, with the line and column of the first offending character.
 */
function explainJsonError(text: string, err: Error): string {
  const found = findJsonSyntaxError(text);
  if (found?.atEnd === true) {
    return `truncated: the JSON ends early after ${text.length} bytes (an object, array or string is left open); the file was cut off while written or copied`;
  }
  if (found !== undefined) {
    return `not JSON at line ${found.line}, column ${found.column}: ${found.reason}`;
  }
  // JSON.parse and the scanner disagree: say what JSON.parse said, on one line.
  return `not JSON: ${err.message.split('\n')[0]!}`;
}

/** The first few issues as `field.path: message (got …)`, at most three. */
function describeIssues(issues: readonly z.core.$ZodIssue[], doc: unknown): string {
  const shown = issues.slice(0, 3).map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => formatPath([...issue.path, k]));
      return `${keys.join(', ')}: not a field of this schema version (${issue.message})`;
    }
    const path = formatPath(issue.path);
    const got = valueAt(doc, issue.path);
    const gotText = got === undefined ? 'missing' : `got ${jsonText(got).slice(0, 60)}`;
    return `${path === '' ? '(top level)' : path}: ${issue.message} (${gotText})`;
  });
  const more = issues.length > 3 ? `; and ${issues.length - 3} more` : '';
  return `not a valid churn report (schema version 1): ${shown.join('; ')}${more}`;
}

/** `operations.start.count`, `timeline.intervals[3].ops`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let node = doc;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** `value` as JSON, or its type when JSON has no text for it. */
function jsonText(value: unknown): string {
  const kind = typeof value;
  return kind === 'undefined' || kind === 'function' || kind === 'symbol'
    ? kind
    : JSON.stringify(value);
}
