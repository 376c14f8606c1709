/**
 * What the private runtime daemons (scripts/containerd.ts, scripts/crio.ts) share: starting a
 * daemon detached with its pid file, waiting for CRI, removing every pod, killing what
 * outlives the daemon (runc containers, shims or conmons), unmounting and the CLI
 * (start|stop|restart|status|env).
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CriClient } from '../src/cri/client.js';

const run = promisify(execFile);
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Whether `binary` is on PATH. */
export async function which(binary: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${binary}`]);
    return true;
  } catch {
    return false;
  }
}

/** Installs the Debian packages `missing` names with apt-get (nothing when empty). */
export async function aptInstall(missing: ReadonlySet<string>, log: (line: string) => void) {
  if (missing.size === 0) return;
  log(`installing ${[...missing].join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env });
  await run('apt-get', ['install', '-y', '-qq', ...missing], { env, maxBuffer: 64 << 20 });
}

/** Builds busybox.tar and pause.tar into `imagesDir` unless there already (scripts/oci-image.ts). */
export async function buildImages(
  imagesDir: string,
  refs: { readonly busybox: string; readonly pause: string },
): Promise<{ busybox: string; pause: string }> {
  await mkdir(imagesDir, { recursive: true });
  const busybox = join(imagesDir, 'busybox.tar');
  const pause = join(imagesDir, 'pause.tar');
  const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
  const builder = join(repoRoot, 'scripts', 'oci-image.ts');
  if (!existsSync(busybox)) {
    await run(tsx, [builder, 'busybox', '--out', busybox, '--ref', refs.busybox], {
      cwd: repoRoot,
    });
  }
  if (!existsSync(pause)) {
    await run(tsx, [builder, 'pause', '--out', pause, '--ref', refs.pause], { cwd: repoRoot });
  }
  return { busybox, pause };
}

/**
 * The pid in `pidFile` if that process runs and its command line contains every one of
 * `words` (the binary's name and its config path), else undefined.
 */
export async function daemonPid(
  pidFile: string,
  words: readonly string[],
): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  // A process in the middle of execve (nsenter becoming the daemon, say) shows an empty
  // cmdline for a moment: its new memory has no arguments yet. Read again rather than call
  // it gone; a zombie or a kernel thread stays empty and is not the daemon.
  for (let attempt = 0; attempt < 40; attempt++) {
    let cmdline: string;
    try {
      cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return undefined;
    }
    if (cmdline !== '') return words.every((word) => cmdline.includes(word)) ? pid : undefined;
    if (await isZombie(pid)) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return undefined;
}

async function isZombie(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ...: comm may hold spaces and parentheses, so read after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

/**
 * Starts `binary` detached in its own session (it outlives this process), output appended to
 * `log`, and writes its pid to `pidFile`.
 */
export async function spawnDaemon(
  binary: string,
  args: readonly string[],
  files: { readonly log: string; readonly pidFile: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const logFd = openSync(files.log, 'a');
  const child = spawn(binary, args, { detached: true, stdio: ['ignore', logFd, logFd], env });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${binary} did not start`);
  child.unref();
  await writeFile(files.pidFile, `${pid}\n`);
  return pid;
}

/** Polls `probe` every 200 ms until it resolves true; throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  timeoutMs: number,
  probe: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Waits until CRI at `endpoint` answers Version; `alive` throws (with the log) when the daemon
 * is gone meanwhile.
 */
export async function waitForCri(
  endpoint: string,
  timeoutMs: number,
  alive: () => Promise<void>,
): Promise<void> {
  const client = new CriClient(endpoint, { callTimeoutMs: 5000 });
  try {
    await waitFor('CRI to answer Version', timeoutMs, async () => {
      await alive();
      try {
        await client.runtime('Version', { version: 'v1' });
        return true;
      } catch {
        return false;
      }
    });
  } finally {
    client.close();
  }
}

/** The last `lines` lines of a log file ('' when unreadable). */
export async function tail(path: string, lines = 20): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Removes every pod (and so every container) through CRI; best effort. With
 * `stopContainersFirst`, containers are stopped with no grace period first (CRI-O's
 * StopPodSandbox gives each 10 s).
 */
export async function removeAllPods(
  endpoint: string,
  options: { readonly stopContainersFirst?: boolean } = {},
): Promise<void> {
  const client = new CriClient(endpoint, { callTimeoutMs: 30_000 });
  try {
    if (options.stopContainersFirst === true) {
      const { containers } = await client.runtime('ListContainers', {});
      for (const c of containers) {
        await client
          .runtime('StopContainer', { containerId: c.id, timeout: 0 })
          .catch(() => undefined);
      }
    }
    const { items } = await client.runtime('ListPodSandbox', {});
    for (const pod of items) {
      await client.runtime('StopPodSandbox', { podSandboxId: pod.id }).catch(() => undefined);
      await client.runtime('RemovePodSandbox', { podSandboxId: pod.id }).catch(() => undefined);
    }
  } catch {
    // The daemon is not answering; what is left is killed by the caller.
  } finally {
    client.close();
  }
}

/** Kills and deletes every runc container whose state is under `root`; best effort. */
export async function killRuncContainers(root: string): Promise<void> {
  if (!existsSync(root)) return;
  try {
    const { stdout } = await run('runc', ['--root', root, 'list', '-q']);
    for (const id of stdout.split('\n').filter((line) => line !== '')) {
      await run('runc', ['--root', root, 'kill', id, 'KILL']).catch(() => undefined);
      await run('runc', ['--root', root, 'delete', '--force', id]).catch(() => undefined);
    }
  } catch {
    // No runc state.
  }
}

/** Pids of processes (not this one) whose command line contains `text`. */
export async function processesMentioning(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmdline = (await readFile(`/proc/${name}/cmdline`, 'utf8')).split('\0').join(' ');
      if (cmdline.includes(text)) pids.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs` if `pid` still runs. */
export async function killAndWait(pid: number, graceMs: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone.
    }
  }
}

/** Lazily unmounts every mount point at or under `dir`, deepest first. */
export async function unmountUnder(dir: string): Promise<void> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const points = mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter(
      (point): point is string =>
        point !== undefined && (point === dir || point.startsWith(`${dir}/`)),
    )
    .sort((a, b) => b.length - a.length);
  for (const point of points) {
    await run('umount', ['-l', point]).catch(() => undefined);
  }
}

/** Result of starting a private daemon. */
export interface StartResult {
  readonly pid: number;
  readonly endpoint: string;
  /** False when it was running already. */
  readonly started: boolean;
}

/** What {@link daemonMain} drives. */
export interface DaemonCli {
  /** For messages: `containerd.ts`. */
  readonly name: string;
  readonly usage: string;
  readonly dir: string;
  readonly endpoint: string;
  start(): Promise<StartResult>;
  stop(): Promise<void>;
  restart(): Promise<StartResult>;
  runningPid(): Promise<number | undefined>;
  envLines(): string[];
}

/** The CLI of a private daemon (start|stop|restart|status|env|help); returns the exit code. */
export async function daemonMain(argv: readonly string[], cli: DaemonCli): Promise<number> {
  const log = (line: string): void => {
    process.stderr.write(`${cli.name}: ${line}\n`);
  };
  switch (argv[0]) {
    case 'start': {
      const result = await cli.start();
      log(result.started ? `started pid ${result.pid}` : `already running, pid ${result.pid}`);
      process.stdout.write(`${result.endpoint}\n`);
      return 0;
    }
    case 'stop':
      await cli.stop();
      log(`stopped; removed ${cli.dir}`);
      return 0;
    case 'restart': {
      const result = await cli.restart();
      log(`restarted, pid ${result.pid}`);
      process.stdout.write(`${result.endpoint}\n`);
      return 0;
    }
    case 'status': {
      const pid = await cli.runningPid();
      process.stdout.write(pid === undefined ? 'stopped\n' : `running ${pid} ${cli.endpoint}\n`);
      return pid === undefined ? 1 : 0;
    }
    case 'env':
      process.stdout.write(`${cli.envLines().join('\n')}\n`);
      return 0;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(cli.usage);
      return 0;
    default:
      process.stderr.write(cli.usage);
      return 2;
  }
}
