// Generated files stay in step with the report schema: schema/report.schema.json and the field
// reference in docs/reports.md (regenerate both: npx tsx scripts/gen-report-schema.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  reportJsonSchema,
  reportJsonSchemaPath,
  reportJsonSchemaText,
} from '../../../src/report/json-schema.js';
import { updateReportReference } from '../../../src/report/reference.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const regenerate = 'stale: run npx tsx scripts/gen-report-schema.ts';

interface Node {
  description?: string;
  $ref?: string;
  properties?: Record<string, Node>;
  items?: Node;
  anyOf?: Node[];
  additionalProperties?: Node | boolean;
}

describe('report JSON Schema', () => {
  it('is committed as generated', () => {
    const committed = readFileSync(join(root, reportJsonSchemaPath), 'utf8');
    expect(committed, regenerate).toBe(reportJsonSchemaText());
  });

  it('has a title, the version, and the contract fields of DESIGN.md', () => {
    const schema = reportJsonSchema() as unknown as Node & { title: string; required: string[] };
    expect(schema.title).toBe('churn report');
    expect(schema.required).toEqual(
      expect.arrayContaining(['schemaVersion', 'run', 'environment', 'operations']),
    );
    const run = schema.properties!['run']!;
    expect(Object.keys(run.properties!)).toEqual(
      expect.arrayContaining(['id', 'scenario', 'start', 'end', 'partial']),
    );
    expect(
      Object.keys(schema.properties!['environment']!.properties!['runtime']!.properties!),
    ).toEqual(['name', 'version', 'apiVersion', 'handler']);
  });

  it('describes every field', () => {
    const schema = reportJsonSchema() as unknown as Node & { $defs: Record<string, Node> };
    const undescribed: string[] = [];
    const walk = (node: Node, path: string): void => {
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        if (child.description === undefined && child.$ref === undefined)
          undescribed.push(`${path}${key}`);
        walk(child, `${path}${key}.`);
      }
      if (node.items !== undefined) walk(node.items, `${path}[].`);
      for (const option of node.anyOf ?? []) walk(option, path);
      if (typeof node.additionalProperties === 'object')
        walk(node.additionalProperties, `${path}<key>.`);
    };
    walk(schema, '');
    for (const [name, def] of Object.entries(schema.$defs)) walk(def, `$defs.${name}.`);
    expect(undescribed).toEqual([]);
  });
});

describe('docs/reports.md', () => {
  it('has the field reference as generated', () => {
    const doc = readFileSync(join(root, 'docs/reports.md'), 'utf8');
    expect(doc, regenerate).toBe(updateReportReference(doc));
  });
});
