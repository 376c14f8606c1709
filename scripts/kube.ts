/**
 * A private Kubernetes cluster for churn's deployment tests, from the binaries in
 * ../shared/tools/kubernetes (see its README): etcd from Debian, kube-apiserver,
 * kube-controller-manager, kube-scheduler and one kubelet per node, each node on its own
 * private containerd (scripts/kube-node.ts). Two nodes by default (`127.0.0.1`, `127.0.0.2`);
 * every listener is on loopback, on ports picked free at start (scripts/kube-ports.ts);
 * everything it writes lives under one directory.
 *
 * Usage, as root: scripts/kube.sh start|stop|status|env (or npx tsx scripts/kube.ts …)
 *   start   installs etcd-server, containerd and runc from Debian if missing, unpacks the
 *           binaries, makes certificates and kubeconfigs, starts everything and waits until
 *           every node is Ready. Prints the admin kubeconfig. Does nothing if it runs.
 *   stop    stops the kubelets, the control plane and the containerds (every pod removed, shims
 *           and containers killed), releases the mount namespaces and deletes the directory.
 *   status  `running <apiserver pid> <kubeconfig>` (exit 0) or `stopped` (exit 1).
 *   env     shell exports: KUBECONFIG, CHURN_KUBE_CRI_ENDPOINT, CHURN_KUBE_CONTAINERD_SOCKET,
 *           CHURN_KUBE_NODE_RUNTIME_SOCKET.
 * Environment: CHURN_KUBE_DIR (default /tmp/churn-kube), CHURN_KUBE_TOOLS (default
 * ../shared/tools/kubernetes beside the repository), CHURN_KUBE_NODES (1 or 2, default 2). When
 * node 2 does not come up the cluster runs on node 1 alone with a warning, unless CI=true,
 * where that fails the start.
 *
 * The sandbox, and why:
 *   - Every node's daemons run in the node's private mount namespace (scripts/kube-namespace.ts;
 *     node 1's also holds the control plane): /var/log and /var/lib of the node's own (the
 *     kubelet's fixed /var/log/pods and /var/lib/kubelet/device-plugins), the kubelet's kernel
 *     tunables read from files so it writes none to the host, and the node's containerd
 *     directory at <dir>/node-runtime. containerd runs in its node's namespace, so the container
 *     logs it writes and the kubelet's volume mounts are the ones its kubelet sees.
 *   - Each containerd is scripts/containerd.ts's private instance (restrict_oom_score_adj =
 *     true, a loopback-only CNI config that makes the node Ready; pods use hostNetwork), its
 *     busybox and pause images imported into `k8s.io` (the kubelet's namespace) and busybox into
 *     `churn-native` (churn's native driver's).
 *   - kubelet: cgroupfs, no QoS cgroups, no iptables, oomScoreAdj 0 (negative values are
 *     forbidden here), swap allowed, webhook authn/authz with the cluster's CA.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensurePackages as ensureContainerdPackages, type ContainerdPaths } from './containerd.js';
import { launcher, makeNamespace } from './kube-namespace.js';
import {
  kubeletAlive,
  kubeletConfig,
  kubeNode,
  kubeNodes,
  maxNodes,
  nodeRuntimeSocket,
  startKubelet,
  startNodeRuntime,
  stopKubelet,
  stopNodeRuntime,
  type KubeNode,
} from './kube-node.js';
import { loadPorts, pickPorts, savePorts, type ClusterPorts } from './kube-ports.js';
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

/** The first node's name: the kubelet registers with its address as hostname. */
export const nodeName = '127.0.0.1';

/** The control plane (run in node 1's mount namespace); kubelets are scripts/kube-node.ts's. */
const components = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
type Component = (typeof components)[number];

/** How many nodes a start runs: $CHURN_KUBE_NODES (1 … maxNodes), default maxNodes. */
export function nodeCount(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['CHURN_KUBE_NODES'];
  if (raw === undefined || raw === '') return maxNodes;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > maxNodes)
    throw new Error(`CHURN_KUBE_NODES=${raw}: a whole number from 1 to ${maxNodes}`);
  return n;
}

/** Where everything of the private cluster lives. */
export interface KubePaths {
  readonly dir: string;
  readonly tools: string;
  readonly bin: string;
  readonly pki: string;
  readonly logs: string;
  readonly run: string;
  readonly adminKubeconfig: string;
  /** Node 1's containerd. */
  readonly containerd: ContainerdPaths;
  /** The socket every node's pods see their own node's containerd at (scripts/kube-node.ts). */
  readonly nodeRuntimeSocket: string;
  /** Where the names of the nodes that came up are kept. */
  readonly nodesFile: string;
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
    adminKubeconfig: join(dir, 'admin.kubeconfig'),
    containerd: kubeNode(dir, 1).containerd,
    nodeRuntimeSocket: nodeRuntimeSocket(dir),
    nodesFile: join(dir, 'nodes'),
  };
}

function log(line: string): void {
  process.stderr.write(`kube.ts: ${line}\n`);
}

const pidFile = (p: KubePaths, c: Component): string => join(p.run, `${c}.pid`);
const logFile = (p: KubePaths, c: Component): string => join(p.logs, `${c}.log`);

/** The pid of a running component, or undefined. */
async function componentPid(p: KubePaths, c: Component): Promise<number | undefined> {
  return daemonPid(pidFile(p, c), [c, p.dir]);
}

/** The pid of the running apiserver, or undefined. */
export async function runningPid(p = kubePaths()): Promise<number | undefined> {
  return componentPid(p, 'kube-apiserver');
}

/** Unpacks the four binaries from the tools directory (xz) into <dir>/bin, once. */
async function unpackBinaries(p: KubePaths): Promise<void> {
  await mkdir(p.bin, { recursive: true });
  await Promise.all(
    [...components.filter((c) => c !== 'etcd'), 'kubelet'].map(async (c) => {
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

/** The clients of the API server besides the kubelets: file name → subject. */
const clients = {
  admin: '/O=system:masters/CN=churn-admin',
  'apiserver-kubelet': '/O=system:masters/CN=kube-apiserver-kubelet-client',
  'controller-manager': '/CN=system:kube-controller-manager',
  scheduler: '/CN=system:kube-scheduler',
} as const;
type Client = keyof typeof clients;

/** Every client certificate: file name → subject (each possible node's kubelet's too). */
function allClients(p: KubePaths): [string, string][] {
  return [
    ...Object.entries(clients),
    ...kubeNodes(p.dir).map((n): [string, string] => [
      n.clientCert,
      `/O=system:nodes/CN=system:node:${n.name}`,
    ]),
  ];
}

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
  for (const [name, subject] of allClients(p)) await issue(p.pki, name, subject, clientExt);
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'sa.key'], p.pki);
  await openssl(['ec', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], p.pki);
  await writeFile(join(p.pki, 'done'), '');
}

/** A kubeconfig for client certificate `name` (certificate files by path). */
function kubeconfig(p: KubePaths, ports: ClusterPorts, name: string): string {
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

const kubeconfigPath = (p: KubePaths, name: Client): string =>
  name === 'admin' ? p.adminKubeconfig : join(p.dir, `${name}.kubeconfig`);

/** Each control-plane component's command line (without the namespace launcher). */
function commandLines(p: KubePaths, ports: ClusterPorts): Record<Component, string[]> {
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
  };
}

/** A request to the API server as the admin; resolves the status and body. */
export async function apiRequest(
  p: KubePaths,
  method: 'GET' | 'DELETE',
  path: string,
): Promise<{ status: number; body: string }> {
  const [ca, cert, key] = await Promise.all(
    ['ca.crt', 'admin.crt', 'admin.key'].map((f) => readFile(join(p.pki, f))),
  );
  const { apiserver } = await loadPorts(p.dir);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: apiserver, method, path, ca, cert, key, timeout: 5000 },
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

/** GET `path` on the API server as the admin. */
export const apiGet = (p: KubePaths, path: string): Promise<{ status: number; body: string }> =>
  apiRequest(p, 'GET', path);

async function nodeReady(p: KubePaths, name: string): Promise<boolean> {
  try {
    const { status, body } = await apiGet(p, `/api/v1/nodes/${name}`);
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
  const [binary, ...rest] = [...launcher(kubeNode(p.dir, 1).ns), ...args];
  return spawnDaemon(binary!, rest, { log: logFile(p, c), pidFile: pidFile(p, c) });
}

async function alive(p: KubePaths, c: Component): Promise<void> {
  if ((await componentPid(p, c)) === undefined) {
    throw new Error(`${c} exited; see ${logFile(p, c)}:\n${await tail(logFile(p, c))}`);
  }
}

/** The names of the nodes the running cluster has (as the last start left them). */
export async function clusterNodes(p = kubePaths()): Promise<KubeNode[]> {
  try {
    const names = (await readFile(p.nodesFile, 'utf8')).split('\n').filter(Boolean);
    return kubeNodes(p.dir).filter((n) => names.includes(n.name));
  } catch {
    return [];
  }
}

/**
 * Starts node `node`'s kubelet once its runtime is up (`runtime`, started by the caller) and
 * waits until the node is Ready.
 */
async function startNode(
  p: KubePaths,
  node: KubeNode,
  since: () => string,
  runtime: Promise<void>,
): Promise<void> {
  await runtime;
  log(`node ${node.name}: containerd up after ${since()}`);
  await startKubelet(node, p.bin);
  await waitFor(`node ${node.name} Ready`, 120_000, async () => {
    for (const c of components) await alive(p, c);
    await kubeletAlive(node);
    return nodeReady(p, node.name);
  });
  log(`node ${node.name} Ready after ${since()}`);
}

/**
 * Starts node 2 … N (see the module comment). A node that fails is stopped and removed from
 * the cluster, with a warning, and the cluster runs without it; under CI=true that throws.
 * Resolves the nodes that came up.
 */
async function startMoreNodes(
  p: KubePaths,
  nodes: readonly KubeNode[],
  since: () => string,
): Promise<KubeNode[]> {
  const up: KubeNode[] = [];
  for (const node of nodes) {
    try {
      const images = kubeNode(p.dir, 1).containerd.images;
      await startNode(p, node, since, startNodeRuntime(node, images));
      up.push(node);
    } catch (err) {
      if (process.env['CI'] === 'true') throw err;
      log(
        `WARNING: node ${node.name} did not come up, so the cluster runs without it ` +
          `(set CHURN_KUBE_NODES=1 to skip it; CI=true fails instead): ${(err as Error).message}`,
      );
      await stopKubelet(node);
      await stopNodeRuntime(node).catch(() => undefined);
      await apiRequest(p, 'DELETE', `/api/v1/nodes/${node.name}`).catch(() => undefined);
    }
  }
  return up;
}

/** Starts the cluster (see the module comment); a no-op when it runs already. */
export async function startCluster(p = kubePaths(), count = nodeCount()): Promise<StartResult> {
  if (process.getuid?.() !== 0)
    throw new Error('the private cluster needs root: run scripts/kube.sh start as root');
  const existing = await runningPid(p);
  if (existing !== undefined && (await clusterNodes(p)).length > 0) {
    return { pid: existing, endpoint: p.adminKubeconfig, started: false };
  }
  await ensurePackages();
  for (const sub of [p.logs, p.run, join(p.dir, 'volume-plugins')])
    await mkdir(sub, { recursive: true });
  const started = Date.now();
  const since = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const nodes = kubeNodes(p.dir, count);
  const [first, ...more] = nodes as [KubeNode, ...KubeNode[]];
  try {
    const ports =
      existing !== undefined
        ? await loadPorts(p.dir)
        : await pickPorts(kubeNodes(p.dir).map((n) => n.name));
    await savePorts(p.dir, ports);
    await Promise.all([unpackBinaries(p), makePki(p)]);
    for (const name of Object.keys(clients) as Client[]) {
      await writeFile(kubeconfigPath(p, name), kubeconfig(p, ports, name), { mode: 0o600 });
    }
    for (const node of nodes) {
      await writeFile(node.kubeconfig, kubeconfig(p, ports, node.clientCert), { mode: 0o600 });
      await mkdir(dirname(node.kubeletConfig), { recursive: true });
      await writeFile(
        node.kubeletConfig,
        kubeletConfig(node, ports.nodes[node.name]!, join(p.pki, 'ca.crt')),
      );
    }
    // Node 1's namespace holds the control plane too.
    await mkdir(first.containerd.dir, { recursive: true });
    await makeNamespace(first.ns);
    const lines = commandLines(p, ports);

    await startComponent(p, 'etcd', lines.etcd);
    await waitFor('etcd', 30_000, async () => {
      await alive(p, 'etcd');
      return fetch(`http://127.0.0.1:${ports.etcd}/health`).then(
        (r) => r.ok,
        () => false,
      );
    });
    log(`etcd up after ${since()}`);
    await startComponent(p, 'kube-apiserver', lines['kube-apiserver']);
    // Node 1's containerd starts meanwhile; a rejection is awaited below.
    const firstRuntime = startNodeRuntime(first);
    firstRuntime.catch(() => undefined);
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
    await startNode(p, first, since, firstRuntime);
    const up = [first, ...(await startMoreNodes(p, more, since))];
    await writeFile(p.nodesFile, up.map((n) => `${n.name}\n`).join(''));
    // Pods need the `default` ServiceAccount of their namespace, which the controller makes.
    await waitFor('the default ServiceAccount', 30_000, async () =>
      apiGet(p, '/api/v1/namespaces/default/serviceaccounts/default').then(
        (r) => r.status === 200,
        () => false,
      ),
    );
  } catch (err) {
    // The logs outlive the failed start, for whoever reads the error.
    const kept = `${p.dir}.failed-logs`;
    await rm(kept, { recursive: true, force: true });
    await cp(p.logs, kept, { recursive: true }).catch(() => undefined);
    for (const node of kubeNodes(p.dir)) {
      await cp(node.containerd.log, join(kept, `containerd-${node.name}.log`)).catch(
        () => undefined,
      );
    }
    await stopCluster(p).catch(() => undefined);
    throw new Error(`${(err as Error).message}\n(logs kept in ${kept})`, { cause: err });
  }
  const pid = await runningPid(p);
  return { pid: pid ?? 0, endpoint: p.adminKubeconfig, started: true };
}

/** Stops everything and deletes the directory (see the module comment). Idempotent. */
export async function stopCluster(p = kubePaths()): Promise<void> {
  // The kubelets first, so they restart nothing; then the control plane.
  const nodes = kubeNodes(p.dir);
  for (const node of nodes) await stopKubelet(node);
  for (const c of [...components].reverse()) {
    const pid = await componentPid(p, c);
    if (pid !== undefined) await killAndWait(pid, 10_000);
  }
  // Node 1's namespace last: the others' were copied from the host while it was mounted.
  for (const node of [...nodes].reverse()) await stopNodeRuntime(node);
  await rm(p.dir, { recursive: true, force: true });
}

/** Shell exports for the running cluster. */
export function envLines(p = kubePaths()): string[] {
  return [
    `export CHURN_KUBE_DIR=${p.dir}`,
    `export KUBECONFIG=${p.adminKubeconfig}`,
    `export CHURN_KUBE_CRI_ENDPOINT=${p.containerd.endpoint}`,
    `export CHURN_KUBE_CONTAINERD_SOCKET=${p.containerd.socket}`,
    `export CHURN_KUBE_NODE_RUNTIME_SOCKET=${p.nodeRuntimeSocket}`,
  ];
}

const usage = `usage, as root: scripts/kube.sh start|stop|status|env
  scripts/kube.sh start    start a private cluster (nodes 127.0.0.1 and 127.0.0.2); prints the admin kubeconfig
  eval "$(scripts/kube.sh env)"   KUBECONFIG, CHURN_KUBE_CRI_ENDPOINT, CHURN_KUBE_CONTAINERD_SOCKET (node 1's),
                                  CHURN_KUBE_NODE_RUNTIME_SOCKET (each node's own, as its pods see it)
  scripts/kube.sh status   running <apiserver pid> <kubeconfig> (exit 0) or stopped (exit 1)
  scripts/kube.sh stop     stop the kubelets, control plane and containerds; delete the directory
Directory: $CHURN_KUBE_DIR (default /tmp/churn-kube). Nodes: $CHURN_KUBE_NODES (1 or ${maxNodes}, default ${maxNodes}).
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
