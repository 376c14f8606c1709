/**
 * The unix socket a CRI server listens on: claimed safely (a stale socket file is removed, a
 * live server or a non-socket file is never touched) and bound with mode 0600 from the first
 * instant (bound inside a private 0700 directory, chmodded, then renamed into place), so no
 * other user can ever connect to the runtime.
 */
import { createConnection } from 'node:net';
import { lstat, mkdir, mkdtemp, rename, rm, chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ChurnError } from '../common/errors.js';

/** Longest path a unix socket address can have on Linux (sun_path is 108 bytes with the NUL). */
export const maxSocketPathBytes = 107;

/** Resolves true when a server accepts a connection on the socket at `path`. */
export function socketAnswers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path });
    const timer = setTimeout(() => {
      socket.destroy();
      // Something holds the socket but does not accept: treat it as taken, never steal it.
      resolve(true);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(err);
    });
  });
}

/**
 * Makes `path` available for a new server: nothing there is fine, a stale socket file (no one
 * answers) is removed. ENDPOINT_INVALID when another server answers there, or when the path
 * holds something that is not a socket.
 */
export async function claimSocketPath(path: string): Promise<void> {
  if (Buffer.byteLength(path) > maxSocketPathBytes) {
    throw new ChurnError(
      'ENDPOINT_INVALID',
      `socket path ${path} is longer than ${maxSocketPathBytes} bytes: choose a shorter one`,
    );
  }
  let stats;
  try {
    stats = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ChurnError('IO', `cannot inspect ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!stats.isSocket()) {
    throw new ChurnError(
      'ENDPOINT_INVALID',
      `${path} exists and is not a socket: not replacing it`,
    );
  }
  let answers: boolean;
  try {
    answers = await socketAnswers(path);
  } catch (err) {
    throw new ChurnError('IO', `cannot probe socket ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (answers) {
    throw new ChurnError(
      'ENDPOINT_INVALID',
      `another server is listening on ${path}: stop it or choose another --socket`,
    );
  }
  await rm(path, { force: true });
}

/**
 * Binds a socket at `path` with mode 0600 and no window in which it is looser: `bind` is
 * called with a path inside a fresh 0700 directory next to `path`; the bound socket is then
 * chmodded and renamed to `path` (a unix socket is found by its inode, so it keeps working).
 * `bind` must resolve once the socket file exists.
 */
export async function bindPrivateSocket(
  path: string,
  bind: (tempPath: string) => Promise<void>,
): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tempDir = await mkdtemp(join(dir, '.cri-'));
  try {
    await chmod(tempDir, 0o700);
    const tempPath = join(tempDir, 's');
    await bind(tempPath);
    await chmod(tempPath, 0o600);
    await rename(tempPath, path);
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
}
