/**
 * A private containerd for trying churn and for its e2e tests: own root, state, socket and
 * runc roots under one directory, CRI configured for this machine, test images built locally
 * and imported. Nothing it starts touches the system's containerd or leaves the machine.
 *
 * Usage, as root (no sudo needed in a root shell): scripts/containerd.sh start|stop|restart|status|env
 * (or npx tsx scripts/containerd.ts …)
 *   start   installs containerd and runc from Debian if missing, builds the busybox and pause
 *           images (scripts/oci-image.ts), starts containerd, imports the images, waits until
 *           CRI answers Version, prints the endpoint. Does nothing if it already runs.
 *   stop    removes every pod through CRI, stops containerd, kills what is left of its shims
 *           and runc containers, unmounts and deletes the directory. Idempotent.
 *   restart stops containerd and starts it again on the same directory (pods survive).
 *   status  prints `running <pid> <endpoint>` (exit 0) or `stopped` (exit 1).
 *   env     prints shell exports: CHURN_CRI_ENDPOINT, CONTAINERD_ADDRESS, CONTAINERD_NAMESPACE.
 * Environment: CHURN_CONTAINERD_DIR (default /tmp/churn-containerd).
 *
 * Configuration, and why:
 *   - restrict_oom_score_adj = true: this sandbox forbids a negative oom_score_adj.
 *   - runtime handlers `runc` (the default) and `runc-nopivot` (runc with --no-pivot and no new
 *     session keyring), each with its own runc root. crun from Debian fails on this machine's
 *     hybrid cgroup layout, so the second handler is runc with other options.
 *   - sandbox_image = the locally built pause image; busybox is imported as
 *     docker.io/library/busybox:latest, churn's default image for the cri driver.
 *   - CNI config and binary dirs are private and hold only a stub (cniStubScript): a pod
 *     without host network gets its own network namespace with loopback up and nothing else,
 *     so no pod traffic can leave the machine and no system CNI config is read. The stub
 *     reports 127.0.0.1 as the pod's address (critest needs a network to run such pods).
 *   - registry config_path = <dir>/certs.d, empty: nothing is pulled from the network. A test
 *     that pulls (critest) points registries at a loopback mirror with mirrorRegistries().
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
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

/** Image references the private containerd has. */
export const busyboxRef = 'docker.io/library/busybox:latest';
/** The pause image `sandbox_image` names, built locally. */
export const pauseRef = 'localhost/churn/pause:local';
/** Runtime handlers configured besides the default. */
export const runtimeHandlers = ['runc', 'runc-nopivot'] as const;

/** Where everything of one private containerd lives. */
export interface ContainerdPaths {
  readonly dir: string;
  readonly socket: string;
  readonly endpoint: string;
  readonly config: string;
  readonly pidFile: string;
  readonly log: string;
  readonly images: string;
  /** containerd's registry `config_path`: one `<host>/hosts.toml` per mirrored registry. */
  readonly registryHosts: string;
  readonly runcRoots: Readonly<Record<(typeof runtimeHandlers)[number], string>>;
}

/** The paths under `dir` (default: $CHURN_CONTAINERD_DIR or /tmp/churn-containerd). */
export function containerdPaths(
  dir = process.env['CHURN_CONTAINERD_DIR'] ?? '/tmp/churn-containerd',
): ContainerdPaths {
  const socket = join(dir, 'containerd.sock');
  return {
    dir,
    socket,
    endpoint: `unix://${socket}`,
    config: join(dir, 'config.toml'),
    pidFile: join(dir, 'containerd.pid'),
    log: join(dir, 'containerd.log'),
    images: join(dir, 'images'),
    registryHosts: join(dir, 'certs.d'),
    runcRoots: { runc: join(dir, 'runc'), 'runc-nopivot': join(dir, 'runc-nopivot') },
  };
}

function configToml(p: ContainerdPaths): string {
  const runtime = (name: keyof ContainerdPaths['runcRoots'], extra: string): string => `
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${name}]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${name}.options]
        BinaryName = "runc"
        Root = "${p.runcRoots[name]}"
        SystemdCgroup = false${extra}
`;
  return `# Private containerd for churn; written by scripts/containerd.ts.
version = 2
root = "${join(p.dir, 'root')}"
state = "${join(p.dir, 'state')}"
oom_score = 0
required_plugins = ["io.containerd.grpc.v1.cri"]
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]

[grpc]
  address = "${p.socket}"

[ttrpc]
  address = "${p.socket}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "${join(p.dir, 'opt')}"

  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "${pauseRef}"
    restrict_oom_score_adj = true
    disable_apparmor = true
    netns_mounts_under_state_dir = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"

    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "${p.registryHosts}"

    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "${join(p.dir, 'cni', 'bin')}"
      conf_dir = "${join(p.dir, 'cni', 'net.d')}"

    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"
      snapshotter = "overlayfs"
${runtime('runc', '')}${runtime('runc-nopivot', '\n        NoPivotRoot = true\n        NoNewKeyring = true')}`;
}

/**
 * The CNI plugin of the private containerd, for both of its networks (containerd's own
 * loopback network, type `loopback`, and the pod network, type `churn-cni-stub`): ADD brings
 * up `lo` in the pod's network namespace and creates nothing else; every ADD reports
 * 127.0.0.1/8 on the interface asked for, the only address the pod has.
 */
export const cniStubScript = `#!/bin/sh
# churn's CNI stub (scripts/containerd.ts): loopback only, no interface, no traffic off the machine.
conf=$(cat)
version=$(printf '%s' "$conf" | sed -n 's/.*"cniVersion"[[:space:]]*:[[:space:]]*"\\([^"]*\\)".*/\\1/p' | head -n 1)
case "$CNI_COMMAND" in
  VERSION) echo '{"cniVersion":"0.4.0","supportedVersions":["0.3.0","0.3.1","0.4.0"]}' ;;
  ADD)
    if [ "$CNI_IFNAME" = lo ]; then
      if command -v ip >/dev/null; then ipcmd=ip; else ipcmd="busybox ip"; fi
      nsenter --net="$CNI_NETNS" $ipcmd link set lo up || exit 1
    fi
    printf '{"cniVersion":"%s","interfaces":[{"name":"%s","sandbox":"%s"}],"ips":[{"version":"4","address":"127.0.0.1/8","interface":0}]}\\n' \\
      "\${version:-0.4.0}" "$CNI_IFNAME" "$CNI_NETNS" ;;
  *) ;;
esac
`;

/** Writes the stub as `loopback` and `churn-cni-stub` into `<cniDir>/bin`, its network into `<cniDir>/net.d`. */
export async function installCniStub(cniDir: string): Promise<void> {
  const bin = join(cniDir, 'bin');
  for (const name of ['loopback', 'churn-cni-stub']) {
    await writeFile(join(bin, name), cniStubScript, { mode: 0o755 });
  }
  await writeFile(
    join(cniDir, 'net.d', '10-churn-stub.conflist'),
    `${JSON.stringify({ cniVersion: '0.4.0', name: 'churn-stub', plugins: [{ type: 'churn-cni-stub' }] })}\n`,
  );
}

/**
 * Makes containerd pull every reference of `registries` (hosts such as `docker.io`) from the
 * plain-HTTP mirror at `address` (127.0.0.1:PORT) and nowhere else; resolves a function that
 * removes that again. containerd reads these files at each pull: no restart.
 */
export async function mirrorRegistries(
  p: ContainerdPaths,
  registries: readonly string[],
  address: string,
): Promise<() => Promise<void>> {
  if (!address.startsWith('127.0.0.1:')) throw new Error(`mirror ${address}: loopback only`);
  const dirs = registries.map((host) => join(p.registryHosts, host));
  for (const dir of dirs) {
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'hosts.toml'),
      `server = "http://${address}"\n\n[host."http://${address}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
  }
  return async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  };
}

function log(line: string): void {
  process.stderr.write(`containerd.ts: ${line}\n`);
}

/** Installs what is missing of containerd, runc and busybox-static with apt-get. */
export async function ensurePackages(): Promise<void> {
  const wanted: [binary: string, pkg: string][] = [
    ['containerd', 'containerd'],
    ['ctr', 'containerd'],
    ['containerd-shim-runc-v2', 'containerd'],
    ['runc', 'runc'],
  ];
  const missing = new Set<string>();
  for (const [binary, pkg] of wanted) if (!(await which(binary))) missing.add(pkg);
  if (!existsSync('/bin/busybox')) missing.add('busybox-static');
  await aptInstall(missing, log);
}

/** The pid of the running private containerd, or undefined. */
export async function runningPid(p = containerdPaths()): Promise<number | undefined> {
  return daemonPid(p.pidFile, ['containerd', p.config]);
}

async function ctr(p: ContainerdPaths, args: readonly string[]): Promise<string> {
  const { stdout } = await run('ctr', ['--address', p.socket, '--namespace', 'k8s.io', ...args], {
    maxBuffer: 16 << 20,
  });
  return stdout;
}

export type { StartResult };

/** How {@link startContainerd} launches the daemon. */
export interface StartContainerdOptions {
  /**
   * Command that execs its arguments (e.g. `nsenter --mount=FILE --`): containerd runs under it,
   * keeping the pid (scripts/kube.ts starts it in the cluster's mount namespace).
   */
  readonly launcher?: readonly string[];
}

/** Starts the private containerd (see the module comment); a no-op when it runs already. */
export async function startContainerd(
  p = containerdPaths(),
  options: StartContainerdOptions = {},
): Promise<StartResult> {
  if (process.getuid?.() !== 0) {
    throw new Error('the private containerd needs root: run scripts/containerd.sh start as root');
  }
  const existing = await runningPid(p);
  if (existing !== undefined) return { pid: existing, endpoint: p.endpoint, started: false };

  await ensurePackages();
  for (const sub of ['root', 'state', 'opt', 'cni/bin', 'cni/net.d', 'runc', 'runc-nopivot']) {
    await mkdir(join(p.dir, sub), { recursive: true });
  }
  await mkdir(p.registryHosts, { recursive: true });
  await installCniStub(join(p.dir, 'cni'));
  const images = await buildImages(p.images, { busybox: busyboxRef, pause: pauseRef });
  await writeFile(p.config, configToml(p));
  await rm(p.socket, { force: true });
  await rm(`${p.socket}.ttrpc`, { force: true });

  // Detached in its own session: it outlives this process and is stopped by `stop`.
  const [binary, ...prefix] = [...(options.launcher ?? []), 'containerd'];
  const pid = await spawnDaemon(binary, [...prefix, '--config', p.config], p);

  const stillRunning = async (): Promise<void> => {
    if ((await runningPid(p)) === undefined) {
      throw new Error(`containerd exited; see ${p.log}:\n${await tail(p.log)}`);
    }
  };
  try {
    await waitFor('containerd to answer', 30_000, async () => {
      await stillRunning();
      try {
        await ctr(p, ['version']);
        return true;
      } catch {
        return false;
      }
    });
    // Unpacked into the snapshotter CRI uses, so the first container needs no unpack.
    for (const archive of [images.busybox, images.pause]) {
      await importArchive(archive, 'k8s.io', p.socket);
    }
    await waitForCri(p.endpoint, 30_000, stillRunning);
  } catch (err) {
    await stopContainerd(p).catch(() => undefined);
    throw err;
  }
  return { pid, endpoint: p.endpoint, started: true };
}

/** Stops the private containerd and deletes its directory (see the module comment). */
export async function stopContainerd(p = containerdPaths()): Promise<void> {
  const pid = await runningPid(p);
  if (pid !== undefined) {
    await removeAllPods(p.endpoint);
    await killAndWait(pid, 10_000);
  }
  // Shims of this containerd (they outlive it by design) and their runc containers.
  for (const root of Object.values(p.runcRoots)) await killRuncContainers(root);
  for (const shim of await processesMentioning(`-address ${p.socket}`))
    await killAndWait(shim, 2000);
  await unmountUnder(p.dir);
  await rm(p.dir, { recursive: true, force: true });
}

/**
 * Stops containerd (SIGTERM) and starts it again on the same directory: pods and containers
 * survive, as with a real daemon restart (their shims keep running).
 */
export async function restartContainerd(p = containerdPaths()): Promise<StartResult> {
  const pid = await runningPid(p);
  if (pid !== undefined) await killAndWait(pid, 10_000);
  return startContainerd(p);
}

/** Namespace of the native `containerd` driver by default (scenario `target.namespace`). */
export const nativeNamespace = 'churn-native';

/**
 * Imports the OCI image-layout archive `archive` into containerd namespace `namespace` (default
 * `k8s.io`, CRI's), unpacked for overlayfs, as `ctr images import` does. Idempotent; the
 * private containerd must be running.
 */
export async function importArchive(
  archive: string,
  namespace = 'k8s.io',
  socket = containerdPaths().socket,
): Promise<void> {
  await run(
    'ctr',
    [
      '--address',
      socket,
      '--namespace',
      namespace,
      'images',
      'import',
      '--snapshotter',
      'overlayfs',
      archive,
    ],
    { maxBuffer: 16 << 20 },
  );
}

/**
 * Imports busybox ({@link busyboxRef}) into containerd namespace `namespace`, unpacked for overlayfs,
 * for the native `containerd` driver, which never pulls (as containerd-stress's local change 1).
 * Idempotent; the private containerd must be running.
 */
export async function importNativeImage(
  namespace = nativeNamespace,
  p = containerdPaths(),
): Promise<void> {
  await importArchive(join(p.images, 'busybox.tar'), namespace, p.socket);
}

/** Shell exports for the running instance. */
export function envLines(p = containerdPaths()): string[] {
  return [
    `export CHURN_CONTAINERD_DIR=${p.dir}`,
    `export CHURN_CRI_ENDPOINT=${p.endpoint}`,
    `export CONTAINERD_ADDRESS=${p.socket}`,
    'export CONTAINERD_NAMESPACE=k8s.io',
  ];
}

const usage = `usage, as root: scripts/containerd.sh start|stop|restart|status|env|import-native [NAMESPACE]
  scripts/containerd.sh import-native [NS]   import busybox into namespace NS (default ${nativeNamespace}) for --driver containerd
  scripts/containerd.sh start     start a private containerd (installs containerd and runc if missing); prints the endpoint
  eval "$(scripts/containerd.sh env)"   CHURN_CRI_ENDPOINT, CONTAINERD_ADDRESS, CONTAINERD_NAMESPACE
  churn run --driver cri --endpoint "$CHURN_CRI_ENDPOINT"
  scripts/containerd.sh status    running <pid> <endpoint> (exit 0) or stopped (exit 1)
  scripts/containerd.sh restart   restart the daemon; pods and containers survive
  scripts/containerd.sh stop      remove every pod, stop containerd and its shims, delete the directory
Directory: $CHURN_CONTAINERD_DIR (default /tmp/churn-containerd).
`;

/** The CLI; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const p = containerdPaths();
  if (argv[0] === 'import-native') {
    const namespace = argv[1] ?? nativeNamespace;
    await importNativeImage(namespace, p);
    process.stderr.write(`containerd.ts: imported ${busyboxRef} into namespace ${namespace}\n`);
    return 0;
  }
  return daemonMain(argv, {
    name: 'containerd.ts',
    usage,
    dir: p.dir,
    endpoint: p.endpoint,
    start: () => startContainerd(p),
    stop: () => stopContainerd(p),
    restart: () => restartContainerd(p),
    runningPid: () => runningPid(p),
    envLines: () => envLines(p),
  });
}

runIfScript(import.meta.url, 'containerd.ts', main);
