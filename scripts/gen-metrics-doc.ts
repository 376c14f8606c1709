// Regenerates the metric reference in docs/metrics.md from the catalog (src/metrics/catalog.ts).
// Run: npx tsx scripts/gen-metrics-doc.ts   With --check it writes nothing and exits 1 when stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { updateCatalogSection } from '../src/metrics/catalog-doc.js';

const path = join(fileURLToPath(new URL('..', import.meta.url)), 'docs/metrics.md');
const current = readFileSync(path, 'utf8');
const fresh = updateCatalogSection(current);
if (current === fresh) {
  process.exitCode = 0;
} else if (process.argv.includes('--check')) {
  console.error('docs/metrics.md is stale: run npx tsx scripts/gen-metrics-doc.ts');
  process.exitCode = 1;
} else {
  writeFileSync(path, fresh);
  console.log('wrote docs/metrics.md');
}
