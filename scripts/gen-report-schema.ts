// Generates schema/report.schema.json and the field reference in docs/reports.md from the
// report schema (src/report/schema.ts). Run: npx tsx scripts/gen-report-schema.ts
// With --check it writes nothing and exits 1 when either file is stale (for CI).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportJsonSchemaPath, reportJsonSchemaText } from '../src/report/json-schema.js';
import { updateReportReference } from '../src/report/reference.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');

const outputs = [
  { path: reportJsonSchemaPath, render: () => reportJsonSchemaText() },
  {
    path: 'docs/reports.md',
    render: () => updateReportReference(readFileSync(join(root, 'docs/reports.md'), 'utf8')),
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
    console.error(`${path} is stale: run npx tsx scripts/gen-report-schema.ts`);
    stale++;
  } else {
    writeFileSync(file, fresh);
    console.log(`wrote ${path}`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
