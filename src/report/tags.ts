/**
 * Named reports (baselines): `<report-dir>/tags.json` maps a name to a report file, written
 * atomically. `churn report tag FILE NAME` sets one; `churn compare NAME …` and
 * `--baseline NAME` read them; `churn history --prune` never removes a tagged report.
 *
 * Paths inside the report directory are stored relative to it, so the store can be moved or
 * archived whole; paths outside it are stored absolute.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../common/atomic-file.js';
import { ChurnError } from '../common/errors.js';
import { findJsonSyntaxError } from './json-syntax.js';
import { formatPath } from './read.js';

/** What a tag name looks like: a letter, then letters, digits, `_`, `.`, `-` (not `.json`). */
export const tagNamePattern = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

const tagsFileSchema = z.object({
  version: z.literal(1),
  tags: z.record(
    z.string(),
    z.object({
      path: z.string().min(1),
      scenario: z.string(),
      runId: z.string(),
      taggedAt: z.string(),
    }),
  ),
});

/** One tag. `path` is absolute once read. */
export interface Tag {
  readonly name: string;
  readonly path: string;
  readonly scenario: string;
  readonly runId: string;
  readonly taggedAt: string;
}

/** The tags file of the store at `dir`. */
export function tagsPath(dir: string): string {
  return join(dir, 'tags.json');
}

/** Every tag of the store at `dir`, by name; none when the file does not exist. */
export async function readTags(dir: string): Promise<Map<string, Tag>> {
  const file = tagsPath(dir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new ChurnError('IO', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const fail = (why: string, cause?: unknown): ChurnError =>
    new ChurnError('REPORT_INVALID', `${file}: not a churn tags file: ${why}; fix or remove it`, {
      cause,
    });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const found = findJsonSyntaxError(text);
    throw fail(
      found === undefined
        ? `not JSON (${(err as Error).message.split('\n')[0]!})`
        : found.atEnd
          ? `the JSON ends early (cut off while written?)`
          : `not JSON at line ${found.line}, column ${found.column}: ${found.reason}`,
      err,
    );
  }
  const result = tagsFileSchema.safeParse(doc);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = formatPath(issue.path);
    throw fail(`${path === '' ? '(top level)' : path}: ${issue.message}`);
  }
  const parsed = result.data;
  const out = new Map<string, Tag>();
  for (const [name, t] of Object.entries(parsed.tags)) {
    out.set(name, { name, ...t, path: isAbsolute(t.path) ? t.path : resolve(dir, t.path) });
  }
  return out;
}

/**
 * Sets tag `name` to the report at `reportPath`, replacing an older one, which it returns (so
 * the caller can say the tag moved). Throws USAGE for a bad name.
 */
export async function setTag(
  dir: string,
  name: string,
  reportPath: string,
  facts: { readonly scenario: string; readonly runId: string; readonly taggedAt: string },
): Promise<Tag | undefined> {
  if (!tagNamePattern.test(name) || name.endsWith('.json')) {
    throw new ChurnError(
      'USAGE',
      `tag name "${name}": use a letter then letters, digits, _ . - (at most 64), e.g. release-1.7`,
    );
  }
  const tags = await readTags(dir);
  const previous = tags.get(name);
  tags.set(name, { name, path: resolve(reportPath), ...facts });
  await writeTags(dir, tags);
  return previous;
}

/** Removes tag `name`; false when there was none. */
export async function removeTag(dir: string, name: string): Promise<boolean> {
  const tags = await readTags(dir);
  if (!tags.delete(name)) return false;
  await writeTags(dir, tags);
  return true;
}

async function writeTags(dir: string, tags: ReadonlyMap<string, Tag>): Promise<void> {
  const root = resolve(dir);
  const out: z.input<typeof tagsFileSchema> = { version: 1, tags: {} };
  for (const name of [...tags.keys()].sort()) {
    const t = tags.get(name)!;
    const rel = relative(root, t.path);
    const inside = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
    out.tags[name] = {
      path: inside ? rel : t.path,
      scenario: t.scenario,
      runId: t.runId,
      taggedAt: t.taggedAt,
    };
  }
  await writeFileAtomic(tagsPath(dir), `${JSON.stringify(out, null, 2)}\n`);
}
