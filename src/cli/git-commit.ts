/** churn's own git commit, for the report's environment, read from .git without running git. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packagePath } from '../common/package-files.js';

/** The commit checked out next to the installed churn, or null when it is not a git clone. */
export async function churnGitCommit(): Promise<string | null> {
  const gitDir = packagePath('.git');
  try {
    const head = (await readFile(join(gitDir, 'HEAD'), 'utf8')).trim();
    if (!head.startsWith('ref: ')) return /^[0-9a-f]{40}$/.test(head) ? head : null;
    const ref = head.slice(5);
    try {
      return (await readFile(join(gitDir, ref), 'utf8')).trim();
    } catch {
      const packed = await readFile(join(gitDir, 'packed-refs'), 'utf8');
      const line = packed.split('\n').find((l) => l.endsWith(` ${ref}`));
      return line?.split(' ')[0] ?? null;
    }
  } catch {
    return null;
  }
}
