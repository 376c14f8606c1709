// Generates schema/report.schema.json and the field reference in docs/reports.md from the
// report schema (src/report/schema.ts). Run: npx tsx scripts/gen-report-schema.ts
// With --check it writes nothing and exits 1 when either file is stale (for CI).
import { reportJsonSchemaPath, reportJsonSchemaText } from '../src/report/json-schema.js';
import { updateReportReference } from '../src/report/reference.js';
import { writeOrCheck } from './generated-files.js';

writeOrCheck(
  [
    { path: reportJsonSchemaPath, render: () => reportJsonSchemaText() },
    { path: 'docs/reports.md', render: (current) => updateReportReference(current) },
  ],
  'npm run schema:report',
);
