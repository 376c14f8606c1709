/**
 * Schema-version migration of report documents, applied by the reader before validation.
 *
 * A migration turns a document of version `from` into one of version `from + 1`; the reader
 * applies them in a chain until the document is at {@link reportSchemaVersion}. Version 1 is
 * the first published format, so the chain is empty today. When a change needs version 2:
 * write the v2 schema in schema.ts, add `{ from: 1, migrate }` here (pure, total: fill new
 * fields with what v1 implies, rename moved ones), and a test that reads a committed v1 file.
 * Documents of a newer version than this churn knows are refused, never guessed at.
 */
import { ChurnError } from '../common/errors.js';
import { reportSchemaVersion } from './schema.js';

/** One step of the chain: a document of version `from` → version `from + 1`. */
export interface ReportMigration {
  readonly from: number;
  migrate(doc: Record<string, unknown>): Record<string, unknown>;
}

/** The migrations this churn applies, oldest first. */
export const reportMigrations: readonly ReportMigration[] = [];

/**
 * `doc` brought up to `currentVersion` through `migrations`. Throws REPORT_INVALID (naming
 * `where`) when it is not an object with an integer schemaVersion, when the version is newer
 * than `currentVersion`, or when no migration leads from it.
 */
export function upgradeReportDocument(
  doc: unknown,
  where: string,
  migrations: readonly ReportMigration[] = reportMigrations,
  currentVersion: number = reportSchemaVersion,
): unknown {
  const fail = (message: string): ChurnError =>
    new ChurnError('REPORT_INVALID', `${where}: ${message}`);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw fail(
      `not a churn report: the JSON is ${Array.isArray(doc) ? 'an array' : doc === null ? 'null' : `a ${typeof doc}`}, not an object`,
    );
  }
  let current = doc as Record<string, unknown>;
  const version = current['schemaVersion'];
  if (version === undefined) {
    throw fail(
      `not a churn report: it has no schemaVersion (this churn reads 1…${currentVersion})`,
    );
  }
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw fail(
      `schemaVersion: ${JSON.stringify(version)} is not a report schema version (this churn reads 1…${currentVersion})`,
    );
  }
  if (version > currentVersion) {
    throw fail(
      `schemaVersion ${version} is newer than this churn reads (up to ${currentVersion}): upgrade churn to read this report`,
    );
  }
  for (let v = version; v < currentVersion; v++) {
    const step = migrations.find((m) => m.from === v);
    if (step === undefined) {
      throw fail(
        `schemaVersion ${v}: no migration to version ${v + 1} (this churn reads ${currentVersion})`,
      );
    }
    current = { ...step.migrate(current), schemaVersion: v + 1 };
  }
  return current;
}
