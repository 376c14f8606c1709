/**
 * Finding a container's executable inside its rootfs, as the container would: a name without
 * a slash is looked up in PATH (from the container's environment), every symlink resolves
 * inside the rootfs. Busybox-style images work because the process is spawned with the
 * resolved file but the original name as argv[0].
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { ChurnError } from '../../common/errors.js';
import { resolveInRoot } from '../rootfs-path.js';

/** PATH used when the environment has none (containerd's default). */
export const defaultPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The value of `name` in KEY=VALUE pairs (the last one wins), or undefined. */
export function envValue(env: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  const prefix = `${name}=`;
  for (const kv of env) if (kv.startsWith(prefix)) value = kv.slice(prefix.length);
  return value;
}

/** Host path of the file `rootfsPath` names, when it is an executable regular file. */
async function executableAt(rootfs: string, rootfsPath: string): Promise<string | undefined> {
  const host = rootfs === '/' ? posix.resolve(rootfsPath) : await resolveInRoot(rootfs, rootfsPath);
  try {
    const st = await stat(host);
    if (!st.isFile()) return undefined;
    await access(host, constants.X_OK);
    return host;
  } catch {
    return undefined;
  }
}

/**
 * Host path of the executable `command` inside `rootfs`, looked up like execvp with `env`'s
 * PATH and `cwd` (inside the rootfs) for relative paths. Throws FAILED_PRECONDITION (as
 * containerd's "executable file not found in $PATH") when there is none.
 */
export async function resolveCommand(
  rootfs: string,
  command: string,
  env: readonly string[],
  cwd: string,
): Promise<string> {
  if (command === '') throw new ChurnError('INVALID_ARGUMENT', 'empty command');
  if (command.includes('/')) {
    const found = await executableAt(rootfs, posix.resolve(cwd, command));
    if (found !== undefined) return found;
    throw new ChurnError(
      'FAILED_PRECONDITION',
      `exec: "${command}": no such executable file in the image`,
    );
  }
  for (const dir of (envValue(env, 'PATH') ?? defaultPath).split(':')) {
    if (dir === '') continue;
    const found = await executableAt(rootfs, posix.join(posix.resolve(cwd, dir), command));
    if (found !== undefined) return found;
  }
  throw new ChurnError(
    'FAILED_PRECONDITION',
    `exec: "${command}": executable file not found in $PATH`,
  );
}
