/** churn's own version, read from package.json next to dist/ or src/. */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The version in package.json, e.g. `0.1.0`. */
export function churnVersion(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    cached = pkg.version;
  }
  return cached;
}
