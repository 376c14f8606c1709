/**
 * The JSON Schema of scenario files, generated from the zod schema (the input side: what a
 * file may contain), so editors complete and check scenarios. Committed as
 * schema/scenario.schema.json; `npm run schema` regenerates it and a test fails when the
 * committed file is stale.
 */
import { z } from 'zod';
import { scenarioInputSchema } from './schema.js';

/** Where the generated schema is committed, relative to the repository root. */
export const scenarioJsonSchemaPath = 'schema/scenario.schema.json';

/** The JSON Schema (draft 2020-12) of a scenario file. */
export function scenarioJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(scenarioInputSchema, { io: 'input', target: 'draft-2020-12' });
  // Title and description first, where a reader of the file looks for them.
  const { $schema, title, description, properties, ...rest } = generated;
  return {
    $schema,
    title,
    description,
    properties,
    // Mirrors extensionKey in load.ts, which drops these keys before validation.
    patternProperties: {
      '^x-': {
        description:
          'Ignored by churn: a place for YAML anchors to reuse with merge keys (<<: *name).',
      },
    },
    ...rest,
  };
}

/** {@link scenarioJsonSchema} as the committed file's text (2-space JSON, final newline). */
export function scenarioJsonSchemaText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}
