// The one routine behind every generator script: render each generated file from its source
// of truth, and either write the ones that changed or, with --check (CI), write nothing and
// exit 1 naming the stale ones.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A generated file: its path from the repository root and how to render it. */
export interface GeneratedFile {
  readonly path: string;
  /** The file's fresh content; `current` is what is on disk ('' when absent). */
  readonly render: (current: string) => string;
}

/** The repository root. */
export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Writes (or with --check, checks) `files`; `command` is what regenerates them. */
export function writeOrCheck(files: readonly GeneratedFile[], command: string): void {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const { path, render } of files) {
    const file = join(repoRoot, path);
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      // Absent: everything is fresh.
    }
    const fresh = render(current);
    if (current === fresh) continue;
    if (check) {
      console.error(`${path} is stale: run ${command}`);
      stale++;
    } else {
      writeFileSync(file, fresh);
      console.log(`wrote ${path}`);
    }
  }
  process.exitCode = stale > 0 ? 1 : 0;
}
