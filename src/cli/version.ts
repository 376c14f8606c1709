/** churn's own version, read from package.json next to dist/ or src/. */
import { readFileSync } from 'node:fs';
import { packagePath } from '../common/package-files.js';

let cached: string | undefined;

/** The version in package.json, e.g. `0.1.0`. */
export function churnVersion(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as {
      version: string;
    };
    cached = pkg.version;
  }
  return cached;
}
