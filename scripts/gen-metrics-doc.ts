// Regenerates the metric reference in docs/metrics.md from the catalog (src/metrics/catalog.ts).
// Run: npx tsx scripts/gen-metrics-doc.ts   With --check it writes nothing and exits 1 when stale.
import { updateCatalogSection } from '../src/metrics/catalog-doc.js';
import { writeOrCheck } from './generated-files.js';

writeOrCheck(
  [{ path: 'docs/metrics.md', render: (current) => updateCatalogSection(current) }],
  'npm run docs:metrics',
);
