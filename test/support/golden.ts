/**
 * Golden files: `expectGolden(name, text)` compares `text` with test/fixtures/golden/<name>
 * (Markdown goldens end in .golden so the formatter leaves them as rendered);
 * with UPDATE_GOLDEN=1 in the environment it writes the file instead (review the diff!).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const dir = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));

/** Asserts `text` equals the golden file `name` (or rewrites it under UPDATE_GOLDEN=1). */
export function expectGolden(name: string, text: string): void {
  const path = join(dir, name);
  if (process.env['UPDATE_GOLDEN'] === '1') {
    writeFileSync(path, text);
    return;
  }
  let golden: string;
  try {
    golden = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`no golden file ${path}: run with UPDATE_GOLDEN=1 to create it`);
  }
  expect(text, `differs from ${path} (UPDATE_GOLDEN=1 rewrites it)`).toBe(golden);
}
