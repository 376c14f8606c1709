/**
 * The stock cri-tools v1.26.1 (critest, crictl; grpc-go: what a node runs) from
 * ../shared/tools/cri-tools (or $CHURN_CRI_TOOLS_DIR), decompressed into a temp dir (shared/ is
 * read-only in CI). Where they cannot run here (not Linux, not root when needed, no tools dir,
 * no xz) the tests using them skip, except in CI (CI=true), where that is a failure.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where the stock tools are: $CHURN_CRI_TOOLS_DIR, or ../shared/tools/cri-tools of the repo. */
export function criToolsSourceDir(): string {
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  return process.env['CHURN_CRI_TOOLS_DIR'] ?? resolve(repo, '..', 'shared', 'tools', 'cri-tools');
}

/** Decompressed tools by name, or why there are none. */
export interface DecompressedTools<Name extends string> {
  readonly skipReason: string | undefined;
  /** The temp dir ('' when skipped). */
  readonly dir: string;
  /** Path of each binary ('' when skipped). */
  readonly paths: Readonly<Record<Name, string>>;
  /** Removes the temp dir. */
  release(): Promise<void>;
}

/** Decompresses `names` (each `<name>.xz` in the source dir) into one temp dir. */
export async function decompressCriTools<Name extends string>(
  names: readonly Name[],
  options: { readonly needsRoot?: boolean } = {},
): Promise<DecompressedTools<Name>> {
  const source = criToolsSourceDir();
  const none = Object.fromEntries(names.map((n) => [n, ''])) as Record<Name, string>;
  const unavailable = (reason: string): DecompressedTools<Name> => {
    if (process.env['CI'] === 'true') {
      throw new Error(`${names.join(' and ')} are required in CI but ${reason}`);
    }
    return { skipReason: reason, dir: '', paths: none, release: async () => {} };
  };
  if (process.platform !== 'linux') return unavailable('this is not Linux');
  if (options.needsRoot === true && process.getuid?.() !== 0) {
    return unavailable(`${names.join(' and ')} need root`);
  }
  for (const name of names) {
    const file = join(source, `${name}.xz`);
    if (!existsSync(file)) return unavailable(`${file} is missing`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'churn-cri-tools-'));
  const paths = { ...none };
  try {
    for (const name of names) {
      paths[name] = join(dir, name);
      const script = 'xz -dc "$1" > "$2" && chmod 755 "$2"';
      await run('sh', ['-c', script, 'sh', join(source, `${name}.xz`), paths[name]]);
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    return unavailable(`they could not be decompressed (xz-utils?): ${(err as Error).message}`);
  }
  return {
    skipReason: undefined,
    dir,
    paths,
    release: () => rm(dir, { recursive: true, force: true }),
  };
}
