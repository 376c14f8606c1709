/**
 * A private CRI-O for trying churn and for its e2e tests: own root, runroot, socket, log, runc
 * root, exits and attach dirs, namespaces and config under one directory, test images built
 * locally and imported with skopeo, registries pinned to loopback. Nothing it starts touches a
 * system CRI-O or leaves the machine. The same shape as scripts/containerd.ts.
 *
 * Usage, as root: scripts/crio.sh start|stop|restart|status|env (help lists them)
 *   start   installs conmon, runc, skopeo and busybox-static from Debian if missing, takes
 *           `crio` and `pinns` from PATH or decompresses them from ../shared/tools/cri-o
 *           ($CHURN_CRIO_TOOLS_DIR), builds the busybox and pause images (scripts/oci-image.ts),
 *           imports them with skopeo, starts CRI-O, waits until CRI answers Version, prints the
 *           endpoint. Does nothing if it already runs.
 *   stop    removes every pod through CRI, stops CRI-O, kills what is left of its conmons and
 *           runc containers, unmounts and deletes the directory. Idempotent.
 *   restart stops CRI-O and starts it again on the same directory (pods survive).
 *   status  prints `running <pid> <endpoint>` (exit 0) or `stopped` (exit 1).
 *   env     prints shell exports: CHURN_CRIO_DIR, CHURN_CRI_ENDPOINT.
 * Environment: CHURN_CRIO_DIR (default /tmp/churn-crio).
 *
 * Configuration, and why (../shared/tools/cri-o/README.md has the facts):
 *   - `--registries-conf` and `--registries-conf-dir` on the command line (CRI-O 1.26 reads no
 *     environment variable for them): no search registries, and every registry a scenario or
 *     critest names mapped to a closed loopback port, so a pull never resolves a public
 *     registry. A test that pulls points them at a loopback mirror with mirrorRegistries().
 *   - CONTAINERS_STORAGE_CONF and a config-dir of our own: no system file is read.
 *   - This sandbox forbids a negative oom_score_adj, CRI-O gives its infra container -998 and has
 *     no equivalent of containerd's restrict_oom_score_adj. So the runc handler's runtime_path
 *     is {@link runcWrapperScript}, which does what that setting does (a negative oomScoreAdj in
 *     the bundle's config.json is raised to the wrapper's own) and execs /usr/sbin/runc.
 *     drop_infra_ctr = true as well: pods with a per-container pid namespace (what churn sends)
 *     get no infra container at all.
 *   - cgroupfs, conmon from Debian with conmon_cgroup = "pod", runc with its own root.
 *   - pause_image = the locally built pause image (pause_command "" runs its entrypoint);
 *     busybox is docker.io/library/busybox:latest, churn's default image for the cri driver.
 *   - container_attach_socket_dir = the socket's directory, as CRI-O's defaults have it
 *     (/var/run/crio): the resource sampler tells this CRI-O's conmons by it.
 *   - CNI: private dirs holding only containerd.ts's stub (loopback up, no interface), so
 *     no system CNI config is read and no pod traffic leaves the machine. Streaming on 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { busyboxRef, installCniStub, pauseRef } from './containerd.js';
import {
  aptInstall,
  buildImages,
  daemonMain,
  daemonPid,
  killAndWait,
  killRuncContainers,
  processesMentioning,
  removeAllPods,
  spawnDaemon,
  tail,
  unmountUnder,
  waitFor,
  waitForCri,
  which,
  type StartResult,
} from './private-daemon.js';
import { runIfScript } from './run-if-script.js';

const run = promisify(execFile);
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export { busyboxRef, pauseRef };

/** Registries a scenario or critest names; each is pinned to loopback (see the module comment). */
export const pinnedRegistries = [
  'docker.io',
  'registry.k8s.io',
  'k8s.gcr.io',
  'gcr.io',
  'quay.io',
  'ghcr.io',
  'public.ecr.aws',
  'mcr.microsoft.com',
  'registry.fedoraproject.org',
  'registry.access.redhat.com',
  'registry.redhat.io',
] as const;

/** Where the pinned registries point when no mirror is set: a port nothing listens on. */
const closedLoopback = '127.0.0.1:9';

/** Where everything of one private CRI-O lives. */
export interface CrioPaths {
  readonly dir: string;
  readonly socket: string;
  readonly endpoint: string;
  readonly config: string;
  readonly configDir: string;
  readonly registriesConf: string;
  readonly registriesConfDir: string;
  readonly storageConf: string;
  readonly policy: string;
  readonly pidFile: string;
  readonly log: string;
  readonly bin: string;
  readonly images: string;
  readonly root: string;
  readonly runroot: string;
  readonly runcRoot: string;
  readonly exitsDir: string;
}

/** The paths under `dir` (default: $CHURN_CRIO_DIR or /tmp/churn-crio). */
export function crioPaths(dir = process.env['CHURN_CRIO_DIR'] ?? '/tmp/churn-crio'): CrioPaths {
  const socket = join(dir, 'crio.sock');
  return {
    dir,
    socket,
    endpoint: `unix://${socket}`,
    config: join(dir, 'crio.conf'),
    configDir: join(dir, 'crio.conf.d'),
    registriesConf: join(dir, 'registries.conf'),
    registriesConfDir: join(dir, 'registries.conf.d'),
    storageConf: join(dir, 'storage.conf'),
    policy: join(dir, 'policy.json'),
    pidFile: join(dir, 'crio.pid'),
    log: join(dir, 'crio.log'),
    bin: join(dir, 'bin'),
    images: join(dir, 'images'),
    root: join(dir, 'root'),
    runroot: join(dir, 'runroot'),
    runcRoot: join(dir, 'runc'),
    exitsDir: join(dir, 'run', 'exits'),
  };
}

function crioConf(p: CrioPaths, pinns: string): string {
  const d = p.dir;
  return `# Private CRI-O for churn; written by scripts/crio.ts.
[crio]
root = "${p.root}"
runroot = "${p.runroot}"
storage_driver = "overlay"
storage_option = []
log_dir = "${join(d, 'pod-logs')}"
version_file = "${join(d, 'run', 'version')}"
version_file_persist = "${join(d, 'lib', 'version')}"
clean_shutdown_file = "${join(d, 'lib', 'clean.shutdown')}"

[crio.api]
listen = "${p.socket}"
stream_address = "127.0.0.1"
stream_port = "0"

[crio.runtime]
default_runtime = "runc"
conmon = "/usr/bin/conmon"
conmon_cgroup = "pod"
cgroup_manager = "cgroupfs"
selinux = false
seccomp_profile = ""
apparmor_profile = ""
hooks_dir = []
cdi_spec_dirs = []
default_mounts_file = ""
container_exits_dir = "${p.exitsDir}"
container_attach_socket_dir = "${d}"
namespaces_dir = "${join(d, 'ns')}"
pinns_path = "${pinns}"
drop_infra_ctr = true
irqbalance_config_file = "${join(d, 'irqbalance')}"
irqbalance_config_restore_file = "disable"
log_to_journald = false

[crio.runtime.runtimes.runc]
runtime_path = "${join(p.bin, 'runc')}"
runtime_type = "oci"
runtime_root = "${p.runcRoot}"
monitor_path = "/usr/bin/conmon"

[crio.image]
pause_image = "${pauseRef}"
pause_command = ""
signature_policy = "${p.policy}"
insecure_registries = []
big_files_temporary_dir = "${join(d, 'tmp')}"

[crio.network]
network_dir = "${join(d, 'cni', 'net.d')}"
plugin_dirs = ["${join(d, 'cni', 'bin')}"]

[crio.metrics]
enable_metrics = false

[crio.tracing]
enable_tracing = false

[crio.nri]
enable_nri = false
`;
}

/**
 * runc for CRI-O, as containerd's `restrict_oom_score_adj = true` makes it: before `create`,
 * a negative `oomScoreAdj` in the bundle's config.json below this process's own is raised to
 * it. Everything else goes to /usr/sbin/runc unchanged.
 */
export const runcWrapperScript = `#!/bin/sh
# churn's runc wrapper for the private CRI-O (scripts/crio.ts): restrict_oom_score_adj.
bundle=
prev=
for arg in "$@"; do
  case "$prev" in --bundle | -b) bundle=$arg ;; esac
  case "$arg" in --bundle=*) bundle=\${arg#--bundle=} ;; esac
  prev=$arg
done
if [ -n "$bundle" ] && [ -f "$bundle/config.json" ]; then
  own=$(cat /proc/self/oom_score_adj)
  want=$(sed -n 's/.*"oomScoreAdj": *\\(-[0-9][0-9]*\\).*/\\1/p' "$bundle/config.json")
  if [ -n "$want" ] && [ "$want" -lt "$own" ]; then
    sed -i "s/\\(\\"oomScoreAdj\\": *\\)-[0-9][0-9]*/\\1$own/" "$bundle/config.json"
  fi
fi
exec /usr/sbin/runc "$@"
`;

/** registries.conf: no search registries; every pinned registry at `address` (loopback). */
function registriesConf(address: string): string {
  const entries = pinnedRegistries.map(
    (prefix) => `[[registry]]\nprefix = "${prefix}"\nlocation = "${address}"\ninsecure = true\n`,
  );
  return `# Private CRI-O for churn (scripts/crio.ts): loopback only.\nunqualified-search-registries = []\nshort-name-mode = "enforcing"\n\n${entries.join('\n')}`;
}

function storageConf(p: CrioPaths): string {
  return `[storage]\ndriver = "overlay"\nrunroot = "${p.runroot}"\ngraphroot = "${p.root}"\n`;
}

/** The environment of crio and skopeo: no system storage or registries config. */
function privateEnv(p: CrioPaths): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CONTAINERS_STORAGE_CONF: p.storageConf,
    CONTAINERS_REGISTRIES_CONF: p.registriesConf,
  };
}

/**
 * Points every pinned registry at the plain-HTTP mirror at `address` (127.0.0.1:PORT) and makes
 * CRI-O reload it (SIGHUP); resolves a function that pins them to the closed port again.
 */
export async function mirrorRegistries(
  p: CrioPaths,
  address: string,
): Promise<() => Promise<void>> {
  if (!address.startsWith('127.0.0.1:')) throw new Error(`mirror ${address}: loopback only`);
  const reload = async (to: string): Promise<void> => {
    await writeFile(p.registriesConf, registriesConf(to));
    const pid = await runningPid(p);
    if (pid === undefined) return;
    const before = (await readFile(p.log, 'utf8')).length;
    process.kill(pid, 'SIGHUP');
    // CRI-O logs the reload; waiting for it keeps the next pull on the new config.
    await waitFor('CRI-O to reload its registries', 10_000, async () =>
      /Applied new registry configuration/.test((await readFile(p.log, 'utf8')).slice(before)),
    ).catch(() => undefined);
  };
  await reload(address);
  return () => reload(closedLoopback);
}

function log(line: string): void {
  process.stderr.write(`crio.ts: ${line}\n`);
}

/** Installs what is missing of conmon, runc, skopeo and busybox-static with apt-get. */
export async function ensurePackages(): Promise<void> {
  const missing = new Set<string>();
  for (const pkg of ['conmon', 'runc', 'skopeo']) if (!(await which(pkg))) missing.add(pkg);
  if (!existsSync('/bin/busybox')) missing.add('busybox-static');
  if (!(await which('xz'))) missing.add('xz-utils');
  await aptInstall(missing, log);
}

/** Where crio.xz and pinns.xz are: $CHURN_CRIO_TOOLS_DIR, or ../shared/tools/cri-o of the repo. */
export function crioToolsSourceDir(): string {
  return process.env['CHURN_CRIO_TOOLS_DIR'] ?? resolve(repoRoot, '..', 'shared', 'tools', 'cri-o');
}

/** `crio` and `pinns`: from PATH, else decompressed from {@link crioToolsSourceDir} into `p.bin`. */
async function crioBinaries(p: CrioPaths): Promise<{ crio: string; pinns: string }> {
  const found: Record<string, string> = {};
  for (const name of ['crio', 'pinns']) {
    if (await which(name)) {
      found[name] = (await run('sh', ['-c', `command -v ${name}`])).stdout.trim();
      continue;
    }
    const source = join(crioToolsSourceDir(), `${name}.xz`);
    if (!existsSync(source)) {
      throw new Error(`${name} is neither on PATH nor in ${source} (set CHURN_CRIO_TOOLS_DIR)`);
    }
    const target = join(p.bin, name);
    if (!existsSync(target)) {
      await mkdir(p.bin, { recursive: true });
      const script = 'xz -dc "$1" > "$2.part" && chmod 755 "$2.part" && mv "$2.part" "$2"';
      await run('sh', ['-c', script, 'sh', source, target]);
    }
    found[name] = target;
  }
  return { crio: found['crio']!, pinns: found['pinns']! };
}

/** The pid of the running private CRI-O, or undefined. */
export async function runningPid(p = crioPaths()): Promise<number | undefined> {
  return daemonPid(p.pidFile, ['crio', p.config]);
}

/** Imports the OCI archives into CRI-O's storage (skopeo; CRI-O need not run). */
async function importImages(p: CrioPaths, archives: readonly [string, string][]): Promise<void> {
  for (const [archive, ref] of archives) {
    await run(
      'skopeo',
      [
        '--policy',
        p.policy,
        '--registries-conf',
        p.registriesConf,
        'copy',
        '--quiet',
        `oci-archive:${archive}`,
        `containers-storage:[overlay@${p.root}+${p.runroot}]${ref}`,
      ],
      { env: privateEnv(p), maxBuffer: 16 << 20 },
    );
  }
}

export type { StartResult };

/** Starts the private CRI-O (see the module comment); a no-op when it runs already. */
export async function startCrio(p = crioPaths()): Promise<StartResult> {
  if (process.getuid?.() !== 0) {
    throw new Error('the private CRI-O needs root: run scripts/crio.sh start as root');
  }
  const existing = await runningPid(p);
  if (existing !== undefined) return { pid: existing, endpoint: p.endpoint, started: false };

  await ensurePackages();
  const { crio, pinns } = await crioBinaries(p);
  for (const sub of ['root', 'runroot', 'run/exits', 'lib', 'ns', 'tmp', 'pod-logs', 'runc']) {
    await mkdir(join(p.dir, sub), { recursive: true });
  }
  for (const sub of ['cni/bin', 'cni/net.d', 'crio.conf.d', 'registries.conf.d']) {
    await mkdir(join(p.dir, sub), { recursive: true });
  }
  await installCniStub(join(p.dir, 'cni'));
  await writeFile(join(p.bin, 'runc'), runcWrapperScript, { mode: 0o755 });
  await writeFile(p.config, crioConf(p, pinns));
  await writeFile(p.registriesConf, registriesConf(closedLoopback));
  await writeFile(p.storageConf, storageConf(p));
  await writeFile(p.policy, '{"default":[{"type":"insecureAcceptAnything"}]}\n');
  const images = await buildImages(p.images, { busybox: busyboxRef, pause: pauseRef });
  try {
    await importImages(p, [
      [images.busybox, busyboxRef],
      [images.pause, pauseRef],
    ]);
  } catch (err) {
    await stopCrio(p).catch(() => undefined);
    throw err;
  }
  await rm(p.socket, { force: true });

  // Detached in its own session: it outlives this process and is stopped by `stop`.
  const args = ['--config', p.config, '--config-dir', p.configDir];
  args.push('--registries-conf', p.registriesConf, '--registries-conf-dir', p.registriesConfDir);
  const pid = await spawnDaemon(crio, args, p, privateEnv(p));
  try {
    await waitForCri(p.endpoint, 30_000, async () => {
      if ((await runningPid(p)) === undefined) {
        throw new Error(`crio exited; see ${p.log}:\n${await tail(p.log)}`);
      }
    });
  } catch (err) {
    await stopCrio(p).catch(() => undefined);
    throw err;
  }
  return { pid, endpoint: p.endpoint, started: true };
}

/** Stops the private CRI-O and deletes its directory (see the module comment). */
export async function stopCrio(p = crioPaths()): Promise<void> {
  const pid = await runningPid(p);
  if (pid !== undefined) {
    await removeAllPods(p.endpoint, { stopContainersFirst: true });
    await killAndWait(pid, 10_000);
  }
  // conmons outlive CRI-O by design; so do their runc containers.
  await killRuncContainers(p.runcRoot);
  for (const conmon of await processesMentioning(p.exitsDir)) await killAndWait(conmon, 2000);
  await unmountUnder(p.dir);
  await rm(p.dir, { recursive: true, force: true });
}

/** Stops CRI-O (SIGTERM) and starts it again on the same directory: pods survive. */
export async function restartCrio(p = crioPaths()): Promise<StartResult> {
  const pid = await runningPid(p);
  if (pid !== undefined) await killAndWait(pid, 10_000);
  return startCrio(p);
}

/** Shell exports for the running instance. */
export function envLines(p = crioPaths()): string[] {
  return [`export CHURN_CRIO_DIR=${p.dir}`, `export CHURN_CRI_ENDPOINT=${p.endpoint}`];
}

const usage = `usage, as root: scripts/crio.sh start|stop|restart|status|env
  scripts/crio.sh start     start a private CRI-O (installs conmon, runc, skopeo if missing); prints the endpoint
  eval "$(scripts/crio.sh env)"   CHURN_CRIO_DIR, CHURN_CRI_ENDPOINT
  churn run --driver cri --endpoint "$CHURN_CRI_ENDPOINT"
  scripts/crio.sh status    running <pid> <endpoint> (exit 0) or stopped (exit 1)
  scripts/crio.sh restart   restart the daemon; pods and containers survive
  scripts/crio.sh stop      remove every pod, stop CRI-O and its conmons, delete the directory
Directory: $CHURN_CRIO_DIR (default /tmp/churn-crio). crio and pinns: PATH, else
$CHURN_CRIO_TOOLS_DIR (default ../shared/tools/cri-o of the repo).
`;

/** The CLI; returns the exit code. */
export function main(argv: readonly string[]): Promise<number> {
  const p = crioPaths();
  return daemonMain(argv, {
    name: 'crio.ts',
    usage,
    dir: p.dir,
    endpoint: p.endpoint,
    start: () => startCrio(p),
    stop: () => stopCrio(p),
    restart: () => restartCrio(p),
    runningPid: () => runningPid(p),
    envLines: () => envLines(p),
  });
}

runIfScript(import.meta.url, 'crio.ts', main);
