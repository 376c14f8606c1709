/**
 * The JSON Schema of report files, generated from the zod schema in schema.ts, so tools outside
 * churn can validate and read reports. Committed as schema/report.schema.json;
 * `npx tsx scripts/gen-report-schema.ts` regenerates it (and the field reference in
 * docs/reports.md), `--check` fails when either is stale.
 */
import { z } from 'zod';
import { reportSchema } from './schema.js';

/** Where the generated schema is committed, relative to the repository root. */
export const reportJsonSchemaPath = 'schema/report.schema.json';

/** The JSON Schema (draft 2020-12) of a report file. */
export function reportJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(reportSchema, { io: 'input', target: 'draft-2020-12' });
  // Title and description first, where a reader of the file looks for them.
  const { $schema, title, description, ...rest } = generated;
  return { $schema, title, description, ...rest };
}

/** {@link reportJsonSchema} as the committed file's text (2-space JSON, final newline). */
export function reportJsonSchemaText(): string {
  return `${JSON.stringify(reportJsonSchema(), null, 2)}\n`;
}
