/**
 * A private single-node Kubernetes cluster for churn's deployment tests, from the binaries in
 * ../shared/tools/kubernetes (see its README): etcd from Debian, kube-apiserver,
 * kube-controller-manager, kube-scheduler and a kubelet on its own private containerd. Every
 * listener is on 127.0.0.1; everything it writes lives under one directory.
 *
 * Usage, as root: scripts/kube.sh start|stop|status|env (or npx tsx scripts/kube.ts …)
 *   start   installs etcd-server, containerd and runc from Debian if missing, unpacks the
 *           binaries, makes certificates and kubeconfigs, starts everything and waits until
 *           node `127.0.0.1` is Ready. Prints the admin kubeconfig. Does nothing if it runs.
 *   stop    stops the kubelet, the control plane and containerd (every pod removed, shims and
 *           containers killed), releases the mount namespace and deletes the directory.
 *   status  `running <apiserver pid> <kubeconfig>` (exit 0) or `stopped` (exit 1).
 *   env     shell exports: KUBECONFIG, CHURN_KUBE_CRI_ENDPOINT, CHURN_KUBE_CONTAINERD_SOCKET.
 * Environment: CHURN_KUBE_DIR (default /tmp/churn-kube), CHURN_KUBE_TOOLS (default
 * ../shared/tools/kubernetes beside the repository).
 *
 * The sandbox, and why:
 *   - Every daemon runs in one private mount namespace (held by a bind mount of its nsfs file at
 *     <dir>/ns/mnt). In it, <dir>/varlog is bind-mounted over /var/log (the kubelet writes pod
 *     logs to /var/log/pods, a fixed path), /var/lib is an overlay whose upper layer is
 *     <dir>/varlib (its device-plugin socket goes to /var/lib/kubelet, also fixed), and kernel tunables the kubelet insists on
 *     (vm.overcommit_memory=1, kernel.panic=10, …) read as the values it wants, from small files
 *     bind-mounted over /proc/sys/…: otherwise it would write them to the host. containerd runs
 *     in the same namespace, so the container logs it writes and the kubelet's volume mounts
 *     are the ones the kubelet sees.
 *   - containerd is scripts/containerd.ts's private instance under <dir>/containerd
 *     (restrict_oom_score_adj = true, a loopback-only CNI config that makes the node Ready;
 *     pods use hostNetwork), its busybox and pause images imported into `k8s.io` (the
 *     kubelet's namespace) and busybox into `churn-native` (churn's native driver's).
 *   - kubelet: cgroupfs, no QoS cgroups, no iptables, oomScoreAdj 0 (negative values are
 *     forbidden here), swap allowed, webhook authn/authz with the cluster's CA.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  containerdPaths,
  ensurePackages as ensureContainerdPackages,
  importNativeImage,
  nativeNamespace,
  pauseRef,
  startContainerd,
  stopContainerd,
  type ContainerdPaths,
} from './containerd.js';
import {
  aptInstall,
  daemonMain,
  daemonPid,
  killAndWait,
  spawnDaemon,
  tail,
  waitFor,
  which,
  type StartResult,
} from './private-daemon.js';
import { runIfScript } from './run-if-script.js';

const run = promisify(execFile);
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The node's name: the kubelet registers with its address as hostname. */
export const nodeName = '127.0.0.1';

/** Loopback ports the cluster listens on (checked free before start). */
export const ports = {
  etcd: 2379,
  etcdPeer: 2380,
  apiserver: 6443,
  kubelet: 10250,
  kubeletHealthz: 10248,
  controllerManager: 10257,
  scheduler: 10259,
} as const;

const components = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubelet',
] as const;
type Component = (typeof components)[number];

/**
 * Kernel tunables the kubelet sets unless they already have these values (its
 * setupKernelTunables); they read so in the cluster's mount namespace only.
 */
const kubeletTunables: Readonly<Record<string, string>> = {
  'vm/overcommit_memory': '1',
  'vm/panic_on_oom': '0',
  'kernel/panic': '10',
  'kernel/panic_on_oops': '1',
  'kernel/keys/root_maxkeys': '1000000',
  'kernel/keys/root_maxbytes': '25000000',
};

/** Where everything of the private cluster lives. */
export interface KubePaths {
  readonly dir: string;
  readonly tools: string;
  readonly bin: string;
  readonly pki: string;
  readonly logs: string;
  readonly run: string;
  /** The nsfs bind mount that holds the mount namespace. */
  readonly nsFile: string;
  readonly varlog: string;
  readonly kubeletRoot: string;
  readonly adminKubeconfig: string;
  readonly containerd: ContainerdPaths;
}

/** The paths under `dir` (default: $CHURN_KUBE_DIR or /tmp/churn-kube). */
export function kubePaths(dir = process.env['CHURN_KUBE_DIR'] ?? '/tmp/churn-kube'): KubePaths {
  return {
    dir,
    tools: process.env['CHURN_KUBE_TOOLS'] ?? join(repoRoot, '..', 'shared', 'tools', 'kubernetes'),
    bin: join(dir, 'bin'),
    pki: join(dir, 'pki'),
    logs: join(dir, 'logs'),
    run: join(dir, 'run'),
    nsFile: join(dir, 'ns', 'mnt'),
    varlog: join(dir, 'varlog'),
    kubeletRoot: join(dir, 'kubelet'),
    adminKubeconfig: join(dir, 'admin.kubeconfig'),
    containerd: containerdPaths(join(dir, 'containerd')),
  };
}

function log(line: string): void {
  process.stderr.write(`kube.ts: ${line}\n`);
}

const pidFile = (p: KubePaths, c: Component): string => join(p.run, `${c}.pid`);
const logFile = (p: KubePaths, c: Component): string => join(p.logs, `${c}.log`);

/** The pid of a running component, or undefined. */
async function componentPid(p: KubePaths, c: Component): Promise<number | undefined> {
  return daemonPid(pidFile(p, c), [c === 'etcd' ? 'etcd' : c, p.dir]);
}

/** The pid of the running apiserver, or undefined. */
export async function runningPid(p = kubePaths()): Promise<number | undefined> {
  return componentPid(p, 'kube-apiserver');
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** Unpacks the four binaries from the tools directory (xz) into <dir>/bin, once. */
async function unpackBinaries(p: KubePaths): Promise<void> {
  await mkdir(p.bin, { recursive: true });
  await Promise.all(
    components
      .filter((c) => c !== 'etcd')
      .map(async (c) => {
        const out = join(p.bin, c);
        if (existsSync(out)) return;
        const archive = join(p.tools, `${c}.xz`);
        if (!existsSync(archive)) {
          throw new Error(`${archive} is missing: see ../shared/tools/kubernetes/README.md`);
        }
        await run('sh', [
          '-c',
          `xz -dc "$1" > "$2.part" && chmod 755 "$2.part" && mv "$2.part" "$2"`,
          'sh',
          archive,
          out,
        ]);
      }),
  );
}

async function openssl(args: readonly string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd });
}

/** A key pair and a certificate signed by the cluster CA. */
async function issue(
  pki: string,
  name: string,
  subject: string,
  extensions: string,
): Promise<void> {
  await openssl(
    ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`],
    pki,
  );
  await openssl(
    ['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`],
    pki,
  );
  await writeFile(join(pki, `${name}.ext`), extensions);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '365',
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ],
    pki,
  );
}

const clientExt =
  'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';

/** The clients of the API server: file name → subject. */
const clients = {
  admin: '/O=system:masters/CN=churn-admin',
  'apiserver-kubelet': '/O=system:masters/CN=kube-apiserver-kubelet-client',
  'controller-manager': '/CN=system:kube-controller-manager',
  scheduler: '/CN=system:kube-scheduler',
  kubelet: `/O=system:nodes/CN=system:node:${nodeName}`,
} as const;

/** The CA, the apiserver's serving certificate, the service-account keys and client certificates. */
async function makePki(p: KubePaths): Promise<void> {
  if (existsSync(join(p.pki, 'done'))) return;
  await mkdir(p.pki, { recursive: true });
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], p.pki);
  await openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-subj',
      '/CN=churn-kube-ca',
      '-days',
      '365',
      '-out',
      'ca.crt',
    ],
    p.pki,
  );
  await issue(
    p.pki,
    'apiserver',
    '/CN=kube-apiserver',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' +
      'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,' +
      'DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n',
  );
  for (const [name, subject] of Object.entries(clients))
    await issue(p.pki, name, subject, clientExt);
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'sa.key'], p.pki);
  await openssl(['ec', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], p.pki);
  await writeFile(join(p.pki, 'done'), '');
}

/** A kubeconfig for client `name` (certificate files by path). */
function kubeconfig(p: KubePaths, name: keyof typeof clients): string {
  return `apiVersion: v1
kind: Config
clusters:
  - name: churn-kube
    cluster:
      server: https://127.0.0.1:${ports.apiserver}
      certificate-authority: ${join(p.pki, 'ca.crt')}
users:
  - name: ${name}
    user:
      client-certificate: ${join(p.pki, `${name}.crt`)}
      client-key: ${join(p.pki, `${name}.key`)}
contexts:
  - name: churn-kube
    context: { cluster: churn-kube, user: ${name} }
current-context: churn-kube
`;
}

const kubeconfigPath = (p: KubePaths, name: keyof typeof clients): string =>
  name === 'admin' ? p.adminKubeconfig : join(p.dir, `${name}.kubeconfig`);

function kubeletConfig(p: KubePaths): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: ${ports.kubelet}
healthzBindAddress: 127.0.0.1
healthzPort: ${ports.kubeletHealthz}
readOnlyPort: 0
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: ${join(p.pki, 'ca.crt')} }
authorization: { mode: Webhook }
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
kernelMemcgNotification: false
makeIPTablesUtilChains: false
oomScoreAdj: 0
volumePluginDir: ${join(p.dir, 'volume-plugins')}
staticPodPath: ""
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 1Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
`;
}

/** Each component's command line (the kubelet's without the namespace launcher). */
function commandLines(p: KubePaths): Record<Component, string[]> {
  const pki = (f: string): string => join(p.pki, f);
  return {
    etcd: [
      'etcd',
      '--name=churn-kube',
      `--data-dir=${join(p.dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${ports.etcd}`,
      `--advertise-client-urls=http://127.0.0.1:${ports.etcd}`,
      `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-cluster=churn-kube=http://127.0.0.1:${ports.etcdPeer}`,
    ],
    'kube-apiserver': [
      join(p.bin, 'kube-apiserver'),
      `--etcd-servers=http://127.0.0.1:${ports.etcd}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${ports.apiserver}`,
      '--service-cluster-ip-range=10.96.0.0/24',
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      '--kubelet-preferred-address-types=InternalIP,Hostname',
      '--endpoint-reconciler-type=none',
      '--allow-privileged=true',
      `--client-ca-file=${pki('ca.crt')}`,
      `--tls-cert-file=${pki('apiserver.crt')}`,
      `--tls-private-key-file=${pki('apiserver.key')}`,
      `--kubelet-client-certificate=${pki('apiserver-kubelet.crt')}`,
      `--kubelet-client-key=${pki('apiserver-kubelet.key')}`,
      `--service-account-key-file=${pki('sa.pub')}`,
      `--service-account-signing-key-file=${pki('sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc',
    ],
    'kube-controller-manager': [
      join(p.bin, 'kube-controller-manager'),
      `--kubeconfig=${kubeconfigPath(p, 'controller-manager')}`,
      `--authentication-kubeconfig=${kubeconfigPath(p, 'controller-manager')}`,
      `--authorization-kubeconfig=${kubeconfigPath(p, 'controller-manager')}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.controllerManager}`,
      '--leader-elect=false',
      '--use-service-account-credentials',
      '--controllers=*,-nodeipam,-cloud-node-lifecycle,-service,-route',
      '--allocate-node-cidrs=false',
      `--service-account-private-key-file=${pki('sa.key')}`,
      `--root-ca-file=${pki('ca.crt')}`,
      `--cert-dir=${join(p.dir, 'controller-manager-certs')}`,
      `--flex-volume-plugin-dir=${join(p.dir, 'volume-plugins')}`,
    ],
    'kube-scheduler': [
      join(p.bin, 'kube-scheduler'),
      `--kubeconfig=${kubeconfigPath(p, 'scheduler')}`,
      `--authentication-kubeconfig=${kubeconfigPath(p, 'scheduler')}`,
      `--authorization-kubeconfig=${kubeconfigPath(p, 'scheduler')}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.scheduler}`,
      '--leader-elect=false',
      `--cert-dir=${join(p.dir, 'scheduler-certs')}`,
    ],
    kubelet: [
      join(p.bin, 'kubelet'),
      '--container-runtime=remote',
      `--container-runtime-endpoint=${p.containerd.endpoint}`,
      `--pod-infra-container-image=${pauseRef}`,
      `--root-dir=${p.kubeletRoot}`,
      `--cert-dir=${join(p.dir, 'kubelet-pki')}`,
      `--hostname-override=${nodeName}`,
      '--register-node=true',
      `--kubeconfig=${kubeconfigPath(p, 'kubelet')}`,
      `--config=${join(p.dir, 'kubelet.yaml')}`,
    ],
  };
}

/** `nsenter` into the cluster's mount namespace: what every daemon is started under. */
const launcher = (p: KubePaths): string[] => ['nsenter', `--mount=${p.nsFile}`, '--'];

async function nsInode(p: KubePaths): Promise<number | undefined> {
  try {
    return (await stat(p.nsFile)).ino;
  } catch {
    return undefined;
  }
}

/** Whether <dir>/ns/mnt holds a mount namespace (an nsfs mount). */
async function namespaceHeld(p: KubePaths): Promise<boolean> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  return mountinfo
    .split('\n')
    .some((line) => line.split(' ')[4] === p.nsFile && line.includes(' nsfs '));
}

/**
 * Creates the private mount namespace (see the module comment): /var/log from <dir>/varlog, the
 * kubelet's kernel tunables as files. Nothing of it is visible on the host.
 */
async function makeNamespace(p: KubePaths): Promise<void> {
  if (await namespaceHeld(p)) return;
  const nsDir = dirname(p.nsFile);
  await mkdir(nsDir, { recursive: true });
  await mkdir(join(p.varlog, 'pods'), { recursive: true });
  await mkdir(join(p.varlog, 'containers'), { recursive: true });
  // unshare --mount=FILE needs FILE on a private mount.
  await run('mount', ['--bind', nsDir, nsDir]);
  await run('mount', ['--make-private', nsDir]);
  await writeFile(p.nsFile, '');
  const tunables = join(p.dir, 'sysctl');
  const varlib = join(p.dir, 'varlib');
  await mkdir(join(varlib, 'upper'), { recursive: true });
  await mkdir(join(varlib, 'work'), { recursive: true });
  const binds: string[] = [
    `mount --bind '${p.varlog}' /var/log`,
    // The kubelet's device-plugin socket dir is fixed (/var/lib/kubelet/device-plugins).
    `mount -t overlay overlay -o 'lowerdir=/var/lib,upperdir=${varlib}/upper,workdir=${varlib}/work' /var/lib`,
  ];
  for (const [key, value] of Object.entries(kubeletTunables)) {
    const file = join(tunables, key.split('/').join('.'));
    await mkdir(tunables, { recursive: true });
    await writeFile(file, `${value}\n`);
    binds.push(`mount --bind '${file}' /proc/sys/${key}`);
  }
  await run('unshare', [
    `--mount=${p.nsFile}`,
    '--propagation',
    'private',
    'sh',
    '-ec',
    binds.join('\n'),
  ]);
}

/** Pids of every process in the cluster's mount namespace. */
async function namespaceProcesses(p: KubePaths): Promise<number[]> {
  const ino = await nsInode(p);
  if (ino === undefined || !(await namespaceHeld(p))) return [];
  const { readdir } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if ((await stat(`/proc/${name}/ns/mnt`)).ino === ino) pids.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** GET `path` on the API server as the admin; resolves the status and body. */
export async function apiGet(
  p: KubePaths,
  path: string,
): Promise<{ status: number; body: string }> {
  const [ca, cert, key] = await Promise.all(
    ['ca.crt', 'admin.crt', 'admin.key'].map((f) => readFile(join(p.pki, f))),
  );
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: ports.apiserver, path, ca, cert, key, timeout: 5000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function nodeReady(p: KubePaths): Promise<boolean> {
  try {
    const { status, body } = await apiGet(p, `/api/v1/nodes/${nodeName}`);
    if (status !== 200) return false;
    const node = JSON.parse(body) as {
      status?: { conditions?: { type: string; status: string }[] };
    };
    return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  } catch {
    return false;
  }
}

/** Installs etcd-server (and containerd, runc, busybox) from Debian if missing. */
async function ensurePackages(): Promise<void> {
  await ensureContainerdPackages();
  const missing = new Set<string>();
  if (!(await which('etcd'))) missing.add('etcd-server');
  if (!(await which('openssl'))) missing.add('openssl');
  if (!(await which('xz'))) missing.add('xz-utils');
  if (!(await which('nsenter'))) missing.add('util-linux');
  await aptInstall(missing, log);
}

async function startComponent(
  p: KubePaths,
  c: Component,
  args: readonly string[],
): Promise<number> {
  const existing = await componentPid(p, c);
  if (existing !== undefined) return existing;
  const [binary, ...rest] = [...launcher(p), ...args];
  return spawnDaemon(binary!, rest, { log: logFile(p, c), pidFile: pidFile(p, c) });
}

async function alive(p: KubePaths, c: Component): Promise<void> {
  if ((await componentPid(p, c)) === undefined) {
    throw new Error(`${c} exited; see ${logFile(p, c)}:\n${await tail(logFile(p, c))}`);
  }
}

/** Starts the cluster (see the module comment); a no-op when it runs already. */
export async function startCluster(p = kubePaths()): Promise<StartResult> {
  if (process.getuid?.() !== 0)
    throw new Error('the private cluster needs root: run scripts/kube.sh start as root');
  const existing = await runningPid(p);
  if (existing !== undefined && (await componentPid(p, 'kubelet')) !== undefined) {
    return { pid: existing, endpoint: p.adminKubeconfig, started: false };
  }
  if (existing === undefined) {
    for (const [name, port] of Object.entries(ports)) {
      if (!(await portFree(port)))
        throw new Error(`port 127.0.0.1:${port} (${name}) is in use: is another cluster running?`);
    }
  }
  await ensurePackages();
  for (const sub of [p.logs, p.run, p.kubeletRoot, join(p.dir, 'volume-plugins')])
    await mkdir(sub, { recursive: true });
  const started = Date.now();
  const since = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  try {
    await Promise.all([unpackBinaries(p), makePki(p)]);
    for (const name of Object.keys(clients) as (keyof typeof clients)[]) {
      await writeFile(kubeconfigPath(p, name), kubeconfig(p, name), { mode: 0o600 });
    }
    await writeFile(join(p.dir, 'kubelet.yaml'), kubeletConfig(p));
    await makeNamespace(p);
    const lines = commandLines(p);

    await startComponent(p, 'etcd', lines.etcd);
    const containerd = startContainerd(p.containerd, { launcher: launcher(p) });
    await waitFor('etcd', 30_000, async () => {
      await alive(p, 'etcd');
      return fetch(`http://127.0.0.1:${ports.etcd}/health`).then(
        (r) => r.ok,
        () => false,
      );
    });
    log(`etcd up after ${since()}`);
    await startComponent(p, 'kube-apiserver', lines['kube-apiserver']);
    await waitFor('kube-apiserver /readyz', 90_000, async () => {
      await alive(p, 'kube-apiserver');
      return apiGet(p, '/readyz').then(
        (r) => r.status === 200,
        () => false,
      );
    });
    log(`apiserver ready after ${since()}`);
    await startComponent(p, 'kube-controller-manager', lines['kube-controller-manager']);
    await startComponent(p, 'kube-scheduler', lines['kube-scheduler']);
    await containerd;
    // The workload image of churn's native driver, in churn's namespace (never the kubelet's).
    await importNativeImage(nativeNamespace, p.containerd);
    log(`containerd up after ${since()}`);
    await startComponent(p, 'kubelet', lines.kubelet);
    await waitFor(`node ${nodeName} Ready`, 120_000, async () => {
      for (const c of components) await alive(p, c);
      return nodeReady(p);
    });
    log(`node ${nodeName} Ready after ${since()}`);
    // Pods need the `default` ServiceAccount of their namespace, which the controller makes.
    await waitFor('the default ServiceAccount', 30_000, async () =>
      apiGet(p, '/api/v1/namespaces/default/serviceaccounts/default').then(
        (r) => r.status === 200,
        () => false,
      ),
    );
  } catch (err) {
    // The logs outlive the failed start, for whoever reads the error.
    await rm(`${p.dir}.failed-logs`, { recursive: true, force: true });
    await cp(p.logs, `${p.dir}.failed-logs`, { recursive: true }).catch(() => undefined);
    await cp(p.containerd.log, `${p.dir}.failed-logs/containerd.log`).catch(() => undefined);
    await stopCluster(p).catch(() => undefined);
    throw new Error(`${(err as Error).message}\n(logs kept in ${p.dir}.failed-logs)`, {
      cause: err,
    });
  }
  const pid = await runningPid(p);
  return { pid: pid ?? 0, endpoint: p.adminKubeconfig, started: true };
}

/** Stops everything and deletes the directory (see the module comment). Idempotent. */
export async function stopCluster(p = kubePaths()): Promise<void> {
  // The kubelet first, so it restarts nothing; then the control plane.
  for (const c of [
    'kubelet',
    'kube-scheduler',
    'kube-controller-manager',
    'kube-apiserver',
    'etcd',
  ] as const) {
    const pid = await componentPid(p, c);
    if (pid !== undefined) await killAndWait(pid, 10_000);
  }
  await stopContainerd(p.containerd);
  for (const pid of await namespaceProcesses(p)) await killAndWait(pid, 2000);
  if (await namespaceHeld(p)) await run('umount', [p.nsFile]).catch(() => undefined);
  const nsDir = dirname(p.nsFile);
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  if (mountinfo.split('\n').some((line) => line.split(' ')[4] === nsDir)) {
    await run('umount', [nsDir]).catch(() => undefined);
  }
  await rm(p.dir, { recursive: true, force: true });
}

/** Shell exports for the running cluster. */
export function envLines(p = kubePaths()): string[] {
  return [
    `export CHURN_KUBE_DIR=${p.dir}`,
    `export KUBECONFIG=${p.adminKubeconfig}`,
    `export CHURN_KUBE_CRI_ENDPOINT=${p.containerd.endpoint}`,
    `export CHURN_KUBE_CONTAINERD_SOCKET=${p.containerd.socket}`,
  ];
}

const usage = `usage, as root: scripts/kube.sh start|stop|status|env
  scripts/kube.sh start    start a private single-node cluster (node ${nodeName}); prints the admin kubeconfig
  eval "$(scripts/kube.sh env)"   KUBECONFIG, CHURN_KUBE_CRI_ENDPOINT, CHURN_KUBE_CONTAINERD_SOCKET
  scripts/kube.sh status   running <apiserver pid> <kubeconfig> (exit 0) or stopped (exit 1)
  scripts/kube.sh stop     stop the kubelet, control plane and containerd; delete the directory
Directory: $CHURN_KUBE_DIR (default /tmp/churn-kube).
`;

/** The CLI; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const p = kubePaths();
  return daemonMain(argv, {
    name: 'kube.ts',
    usage,
    dir: p.dir,
    endpoint: p.adminKubeconfig,
    start: () => startCluster(p),
    stop: () => stopCluster(p),
    restart: async () => {
      await stopCluster(p);
      return startCluster(p);
    },
    runningPid: () => runningPid(p),
    envLines: () => envLines(p),
  });
}

runIfScript(import.meta.url, 'kube.ts', main);
