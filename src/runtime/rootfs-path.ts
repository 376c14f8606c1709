/**
 * Paths inside a root filesystem. A rootfs belongs to an image, and its symlinks mean what
 * they would inside the container: `/x` is the rootfs's `/x`, and `..` stops at the rootfs's
 * root. Resolving them against the host would let an image point the core at host files, so
 * every path into a rootfs goes through {@link resolveInRoot}.
 */
import { lstat, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { ChurnError } from '../common/errors.js';

const maxSymlinks = 255;

/** Options for {@link resolveInRoot}. */
export interface ResolveInRootOptions {
  /** Follow a symlink in the last component too (default true). */
  readonly followFinal?: boolean;
}

/**
 * The host path of `path` (taken as absolute inside `root`), with every symlink on the way
 * resolved inside `root`. Components that do not exist are appended as they are. Never
 * returns a path outside `root`. Throws INVALID_ARGUMENT on a symlink loop.
 */
export async function resolveInRoot(
  root: string,
  path: string,
  options: ResolveInRootOptions = {},
): Promise<string> {
  const followFinal = options.followFinal ?? true;
  const rootAbs = posix.resolve(root);
  const join = (parts: readonly string[]): string =>
    parts.length === 0 ? rootAbs : posix.join(rootAbs, ...parts);
  const pending = path.split('/').filter((c) => c !== '' && c !== '.');
  pending.reverse(); // a stack: the next component is last
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.pop()!;
    if (part === '.' || part === '') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join([...resolved, part]);
    let isLink: boolean;
    try {
      isLink = (await lstat(candidate)).isSymbolicLink();
    } catch {
      // Does not exist (yet): taken as a plain component; a later `..` still stops at root.
      resolved.push(part);
      continue;
    }
    const isFinal = pending.length === 0;
    if (!isLink || (isFinal && !followFinal)) {
      resolved.push(part);
      continue;
    }
    if (++links > maxSymlinks) {
      throw new ChurnError('INVALID_ARGUMENT', `too many symlinks resolving ${path} in ${root}`);
    }
    const target = await readlink(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    const targetParts = target.split('/').filter((c) => c !== '' && c !== '.');
    for (let i = targetParts.length - 1; i >= 0; i--) pending.push(targetParts[i]!);
  }
  return join(resolved);
}
