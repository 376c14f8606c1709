// Generates schema/scenario.schema.json and the key reference in docs/scenarios.md from the
// scenario schema (src/scenario/schema.ts). Run: npx tsx scripts/gen-scenario-schema.ts
// With --check it writes nothing and exits 1 when either file is stale (for CI).
import { scenarioJsonSchemaPath, scenarioJsonSchemaText } from '../src/scenario/json-schema.js';
import { updateReferenceSection } from '../src/scenario/reference.js';
import { writeOrCheck } from './generated-files.js';

writeOrCheck(
  [
    { path: scenarioJsonSchemaPath, render: () => scenarioJsonSchemaText() },
    { path: 'docs/scenarios.md', render: (current) => updateReferenceSection(current) },
  ],
  'npm run schema',
);
