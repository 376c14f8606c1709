// Generates schema/scenario.schema.json and the key reference in docs/scenarios.md from the
// scenario schema (src/scenario/schema.ts). Run: npx tsx scripts/gen-scenario-schema.ts
// With --check it writes nothing and exits 1 when either file is stale (for CI).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenarioJsonSchemaPath, scenarioJsonSchemaText } from '../src/scenario/json-schema.js';
import { updateReferenceSection } from '../src/scenario/reference.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');

const outputs = [
  { path: scenarioJsonSchemaPath, render: () => scenarioJsonSchemaText() },
  {
    path: 'docs/scenarios.md',
    render: () => updateReferenceSection(readFileSync(join(root, 'docs/scenarios.md'), 'utf8')),
  },
];

let stale = 0;
for (const { path, render } of outputs) {
  const file = join(root, path);
  const fresh = render();
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === fresh) continue;
  if (check) {
    console.error(`${path} is stale: run npx tsx scripts/gen-scenario-schema.ts`);
    stale++;
  } else {
    writeFileSync(file, fresh);
    console.log(`wrote ${path}`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
