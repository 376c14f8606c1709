// Generated files stay in step with the schema: schema/scenario.schema.json and the key
// reference in docs/scenarios.md (regenerate both: npx tsx scripts/gen-scenario-schema.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  scenarioJsonSchema,
  scenarioJsonSchemaPath,
  scenarioJsonSchemaText,
} from '../../../src/scenario/json-schema.js';
import { updateReferenceSection } from '../../../src/scenario/reference.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const regenerate = 'stale: run npx tsx scripts/gen-scenario-schema.ts';

interface Node {
  description?: string;
  properties?: Record<string, Node>;
  items?: Node;
  anyOf?: Node[];
  additionalProperties?: Node | boolean;
}

/** Every property of the schema, with its dotted path. */
function properties(node: Node, path: string, out: [string, Node][] = []): [string, Node][] {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    out.push([`${path}${key}`, child]);
    properties(child, `${path}${key}.`, out);
  }
  if (node.items !== undefined) properties(node.items, `${path.replace(/\.$/, '')}[].`, out);
  for (const option of node.anyOf ?? []) properties(option, path, out);
  if (typeof node.additionalProperties === 'object') {
    properties(node.additionalProperties, `${path}<key>.`, out);
  }
  return out;
}

describe('scenario JSON Schema', () => {
  it('is committed as generated', () => {
    const committed = readFileSync(join(root, scenarioJsonSchemaPath), 'utf8');
    expect(committed, regenerate).toBe(scenarioJsonSchemaText());
  });

  it('has a title, a description and refuses unknown keys', () => {
    const schema = scenarioJsonSchema();
    expect(schema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: 'churn scenario',
      type: 'object',
      additionalProperties: false,
    });
    expect(schema['description']).toEqual(expect.stringContaining('docs/scenarios.md'));
  });

  it('describes every key, so editors can show what it means', () => {
    const all = properties(scenarioJsonSchema(), '');
    expect(all.length).toBeGreaterThan(60);
    const undescribed = all.filter(([, node]) => !node.description).map(([path]) => path);
    expect(undescribed).toEqual([]);
  });

  it('knows the keys of the example in DESIGN.md', () => {
    const paths = new Set(properties(scenarioJsonSchema() as Node, '').map(([path]) => path));
    for (const key of [
      'name',
      'description',
      'target.driver',
      'target.endpoint',
      'target.runtimeHandler',
      'workload.image',
      'workload.command',
      'workload.podPerCycle',
      'workload.containersPerPod',
      'workload.steps',
      'workload.stopTimeout',
      'load.phases[].duration',
      'load.phases[].concurrency',
      'load.phases[].arrivalRate',
      'load.phases[].rampTo',
      'load.maxInflight',
      'load.iterations',
      'thresholds',
      'report.dir',
      'report.labels',
    ]) {
      expect(paths).toContain(key);
    }
  });
});

describe('docs/scenarios.md', () => {
  it('has the key reference as generated', () => {
    const doc = readFileSync(join(root, 'docs/scenarios.md'), 'utf8');
    expect(doc, regenerate).toBe(updateReferenceSection(doc));
  });
});
