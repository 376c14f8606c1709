/**
 * Where a runtime daemon keeps its containers' filesystems, so that the leak audit can look for
 * mounts it left: containerd's `root` and `state` (`--root`, `--state`, else the top-level keys
 * of its `--config` file, else /var/lib/containerd and /run/containerd) and CRI-O's `root` and
 * `runroot` (`--root`, `--runroot`, else the `[crio]` keys of its `--config` file, else
 * /var/lib/containers/storage and /run/containers/storage). Read from the daemon's command line
 * and config file as the daemon itself reads them; other daemons have no known roots.
 */
import { argValue } from './procfs.js';

/** The two directories of a daemon, and where they are configured. */
interface DaemonDirs {
  /** The daemon's flags for each directory, e.g. `root` and `state`. */
  readonly flags: readonly [string, string];
  /** Its config file's keys for them and the table they are in ('' for the top level). */
  readonly table: string;
  readonly keys: readonly [string, string];
  readonly defaultConfig: string;
  readonly defaults: readonly [string, string];
}

const containerd: DaemonDirs = {
  flags: ['root', 'state'],
  table: '',
  keys: ['root', 'state'],
  defaultConfig: '/etc/containerd/config.toml',
  defaults: ['/var/lib/containerd', '/run/containerd'],
};

const crio: DaemonDirs = {
  flags: ['root', 'runroot'],
  table: 'crio',
  keys: ['root', 'runroot'],
  defaultConfig: '/etc/crio/crio.conf',
  defaults: ['/var/lib/containers/storage', '/run/containers/storage'],
};

function dirsOf(comm: string): DaemonDirs | undefined {
  if (comm === 'containerd') return containerd;
  return comm === 'crio' ? crio : undefined;
}

/**
 * The string value of `key` in `table` ('' for the top level) of a TOML text: the subset
 * daemon configs use for paths (`key = "value"` or `'value'`), no multi-line strings.
 */
export function tomlString(text: string, table: string, key: string): string | undefined {
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) {
      current = line.replace(/^\[+\s*|\s*\]+.*$/g, '').replace(/["']/g, '');
      continue;
    }
    if (current !== table) continue;
    const match = /^([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')/.exec(line);
    if (match?.[1] === key) return match[2] !== undefined ? unescapeToml(match[2]) : match[3];
  }
  return undefined;
}

function unescapeToml(s: string): string {
  return s.replace(/\\(["\\])/g, '$1');
}

/**
 * The state directories of the daemon whose comm is `comm` and command line `args`; `readFile`
 * reads its config file (undefined when unreadable). Empty for a daemon it does not know.
 */
export async function daemonRoots(
  comm: string,
  args: readonly string[],
  readFile: (path: string) => Promise<string | undefined>,
): Promise<string[]> {
  const dirs = dirsOf(comm);
  if (dirs === undefined) return [];
  const fromFlags = dirs.flags.map((f) => argValue(args, f));
  let config: string | undefined;
  if (fromFlags.some((v) => v === undefined)) {
    config = await readFile(argValue(args, 'config', 'c') ?? dirs.defaultConfig);
  }
  return dirs.keys.map(
    (key, i) =>
      fromFlags[i] ??
      (config === undefined ? undefined : tomlString(config, dirs.table, key)) ??
      dirs.defaults[i]!,
  );
}
