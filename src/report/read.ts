/**
 * The one way churn reads a report: file → text → JSON → migrated to the current schema version
 * → validated against schema.ts. Every failure is a REPORT_INVALID ChurnError whose message
 * starts with the file and says what is wrong: unreadable, empty, truncated, not JSON, not a
 * report, of a newer schema version, or the first fields of the wrong shape.
 */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { ChurnError } from '../common/errors.js';
import { upgradeReportDocument } from './migrate.js';
import { reportSchema, type Report } from './schema.js';

/**
 * Reads, migrates and validates the report at `path`; throws REPORT_INVALID naming the file
 * (as `label`, by default the path).
 */
export async function readReport(path: string, label: string = path): Promise<Report> {
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
  return parseReport(text, label);
}

/**
 * Parses report JSON `text` (from `where`, a file name for messages): migrates older schema
 * versions, refuses newer ones, validates the shape. Throws REPORT_INVALID.
 */
export function parseReport(text: string, where: string): Report {
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
  return parsed.data as unknown as Report;
}

/** What is wrong with JSON that did not parse: truncated (ends early) or not JSON at all. */
function explainJsonError(text: string, err: Error): string {
  if (endsInsideValue(text)) {
    return `truncated: the JSON ends early after ${text.length} bytes (an object, array or string is left open); the file was cut off while written or copied`;
  }
  const position = /position (\d+)/.exec(err.message);
  const reason = err.message.replace(/ in JSON at position \d+.*$/s, '').split('\n')[0]!;
  if (position !== null) {
    const offset = Number(position[1]);
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    return `not JSON: ${reason} at line ${line}, column ${column}`;
  }
  return `not JSON: ${reason}`;
}

/** True when `text` ends inside a string or with an object or array still open. */
function endsInsideValue(text: string): boolean {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (const ch of text) {
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
  }
  return inString || depth > 0;
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
