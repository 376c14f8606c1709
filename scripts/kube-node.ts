/**
 * One node of the private cluster (scripts/kube.ts): a kubelet on its own loopback address
 * (node `127.0.0.1`, `127.0.0.2`, …, the address as its name) with its own containerd, root
 * dir, serving certificate (self-made in its cert dir), ports and mount namespace
 * (scripts/kube-namespace.ts). Node 1's namespace also holds the control plane; node 1 keeps
 * the single-node cluster's layout under the cluster directory, node N > 1 lives under
 * <dir>/nodeN.
 *
 * In its namespace each node sees its own containerd's directory at <dir>/node-runtime, so
 * <dir>/node-runtime/containerd.sock is the node's own runtime on every node: one manifest
 * (a hostPath of that socket) serves them all.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  containerdPaths,
  importNativeImage,
  nativeNamespace,
  pauseRef,
  startContainerd,
  stopContainerd,
  type ContainerdPaths,
} from './containerd.js';
import { launcher, makeNamespace, releaseNamespace, type NamespaceSpec } from './kube-namespace.js';
import type { KubeletPorts } from './kube-ports.js';
import { daemonPid, killAndWait, spawnDaemon, tail } from './private-daemon.js';

/** The most nodes the private cluster runs (127.0.0.1 … 127.0.0.N). */
export const maxNodes = 2;

/** Where one node's things live. */
export interface KubeNode {
  /** 1-based. */
  readonly index: number;
  /** The node's name and address, 127.0.0.<index>. */
  readonly name: string;
  readonly ns: NamespaceSpec;
  readonly containerd: ContainerdPaths;
  readonly kubeletRoot: string;
  readonly certDir: string;
  readonly kubeletConfig: string;
  /** The kubelet's kubeconfig (its client certificate, CN system:node:<name>). */
  readonly kubeconfig: string;
  /** The client certificate's file name in the cluster's pki dir, without extension. */
  readonly clientCert: string;
  readonly log: string;
  readonly pidFile: string;
}

/** The directory every node sees its own containerd's directory at. */
export const nodeRuntimeDir = (dir: string): string => join(dir, 'node-runtime');

/** The socket of the node's own containerd, as every node's pods see it (hostPath). */
export const nodeRuntimeSocket = (dir: string): string =>
  join(nodeRuntimeDir(dir), 'containerd.sock');

/** Node `index` (1-based) of the cluster under `dir`. */
export function kubeNode(dir: string, index: number): KubeNode {
  const base = index === 1 ? dir : join(dir, `node${index}`);
  const suffix = index === 1 ? '' : `-${index}`;
  const containerd = containerdPaths(join(base, 'containerd'));
  return {
    index,
    name: `127.0.0.${index}`,
    ns: {
      nsFile: join(base, 'ns', 'mnt'),
      varlog: join(base, 'varlog'),
      varlib: join(base, 'varlib'),
      sysctl: join(base, 'sysctl'),
      binds: [[containerd.dir, nodeRuntimeDir(dir)]],
    },
    containerd,
    kubeletRoot: join(base, 'kubelet'),
    certDir: join(base, 'kubelet-pki'),
    kubeletConfig: join(base, 'kubelet.yaml'),
    kubeconfig: join(dir, `kubelet${suffix}.kubeconfig`),
    clientCert: `kubelet${suffix}`,
    log: join(dir, 'logs', `kubelet${suffix}.log`),
    pidFile: join(dir, 'run', `kubelet${suffix}.pid`),
  };
}

/** Nodes 1 … `count` of the cluster under `dir`. */
export function kubeNodes(dir: string, count = maxNodes): KubeNode[] {
  return Array.from({ length: count }, (_, i) => kubeNode(dir, i + 1));
}

/** The kubelet's configuration file. */
export function kubeletConfig(node: KubeNode, ports: KubeletPorts, caFile: string): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${node.name}
port: ${ports.kubelet}
healthzBindAddress: ${node.name}
healthzPort: ${ports.kubeletHealthz}
readOnlyPort: 0
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: ${caFile} }
authorization: { mode: Webhook }
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
kernelMemcgNotification: false
makeIPTablesUtilChains: false
oomScoreAdj: 0
volumePluginDir: ${join(node.kubeletRoot, '..', 'volume-plugins')}
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

/** The kubelet's command line, `bin` holding the binary. */
export function kubeletCommand(node: KubeNode, bin: string): string[] {
  return [
    join(bin, 'kubelet'),
    '--container-runtime=remote',
    `--container-runtime-endpoint=${node.containerd.endpoint}`,
    `--pod-infra-container-image=${pauseRef}`,
    `--root-dir=${node.kubeletRoot}`,
    `--cert-dir=${node.certDir}`,
    `--hostname-override=${node.name}`,
    '--register-node=true',
    `--kubeconfig=${node.kubeconfig}`,
    `--config=${node.kubeletConfig}`,
  ];
}

/**
 * Makes the node's namespace and starts its containerd there, busybox imported into churn's
 * native namespace. `imagesFrom`: another node's built images dir, copied instead of building.
 */
export async function startNodeRuntime(node: KubeNode, imagesFrom?: string): Promise<void> {
  await mkdir(node.containerd.dir, { recursive: true });
  await makeNamespace(node.ns);
  if (imagesFrom !== undefined && existsSync(imagesFrom) && !existsSync(node.containerd.images))
    await cp(imagesFrom, node.containerd.images, { recursive: true });
  await startContainerd(node.containerd, { launcher: launcher(node.ns) });
  // The workload image of churn's native driver, in churn's namespace (never the kubelet's).
  await importNativeImage(nativeNamespace, node.containerd);
}

/** The pid of the node's running kubelet, or undefined. */
export async function kubeletPid(node: KubeNode): Promise<number | undefined> {
  return daemonPid(node.pidFile, ['kubelet', node.kubeletRoot]);
}

/** Starts the node's kubelet in its namespace; a no-op when it runs. */
export async function startKubelet(node: KubeNode, bin: string): Promise<number> {
  const existing = await kubeletPid(node);
  if (existing !== undefined) return existing;
  await mkdir(node.kubeletRoot, { recursive: true });
  await mkdir(join(node.kubeletRoot, '..', 'volume-plugins'), { recursive: true });
  const [binary, ...rest] = [...launcher(node.ns), ...kubeletCommand(node, bin)];
  return spawnDaemon(binary!, rest, { log: node.log, pidFile: node.pidFile });
}

/** Throws with the log's tail when the node's kubelet is not running. */
export async function kubeletAlive(node: KubeNode): Promise<void> {
  if ((await kubeletPid(node)) === undefined) {
    throw new Error(
      `kubelet of node ${node.name} exited; see ${node.log}:\n${await tail(node.log)}`,
    );
  }
}

/** Stops the node's kubelet. */
export async function stopKubelet(node: KubeNode): Promise<void> {
  const pid = await kubeletPid(node);
  if (pid !== undefined) await killAndWait(pid, 10_000);
}

/** Stops the node's containerd (its pods removed) and releases its namespace. Idempotent. */
export async function stopNodeRuntime(node: KubeNode): Promise<void> {
  await stopContainerd(node.containerd);
  await releaseNamespace(node.ns);
}
