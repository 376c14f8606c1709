/**
 * The loopback ports of the private cluster (scripts/kube.ts): picked free at each cold start,
 * so two clusters under different CHURN_KUBE_DIRs share a machine, and kept in
 * <dir>/ports.json for whoever talks to the running cluster (its kubeconfigs name the
 * apiserver's port too).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** The control plane's ports, on 127.0.0.1. */
export interface ControlPlanePorts {
  readonly etcd: number;
  readonly etcdPeer: number;
  readonly apiserver: number;
  readonly controllerManager: number;
  readonly scheduler: number;
}

/** One kubelet's ports, on its node's address. */
export interface KubeletPorts {
  readonly kubelet: number;
  readonly kubeletHealthz: number;
}

/** Every port of the cluster: the control plane's and each node's kubelet's, by node name. */
export interface ClusterPorts extends ControlPlanePorts {
  readonly nodes: Readonly<Record<string, KubeletPorts>>;
}

/** A port free on `host` right now (the kernel's pick), not `avoid`'s. */
async function freePort(host: string, avoid: ReadonlySet<number>): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, host, () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    if (port !== 0 && !avoid.has(port)) return port;
  }
}

/** Free ports for the control plane and the kubelets of `nodes` (node name = its address). */
export async function pickPorts(nodes: readonly string[]): Promise<ClusterPorts> {
  const taken = new Set<number>();
  const pick = async (host: string): Promise<number> => {
    const port = await freePort(host, taken);
    taken.add(port);
    return port;
  };
  const control = {
    etcd: await pick('127.0.0.1'),
    etcdPeer: await pick('127.0.0.1'),
    apiserver: await pick('127.0.0.1'),
    controllerManager: await pick('127.0.0.1'),
    scheduler: await pick('127.0.0.1'),
  };
  const byNode: Record<string, KubeletPorts> = {};
  for (const node of nodes) {
    byNode[node] = { kubelet: await pick(node), kubeletHealthz: await pick(node) };
  }
  return { ...control, nodes: byNode };
}

const portsFile = (dir: string): string => join(dir, 'ports.json');

/** Records the cluster's ports under `dir`. */
export async function savePorts(dir: string, ports: ClusterPorts): Promise<void> {
  await writeFile(portsFile(dir), `${JSON.stringify(ports, null, 2)}\n`);
}

/** The ports of the cluster under `dir` (throws when it never started). */
export async function loadPorts(dir: string): Promise<ClusterPorts> {
  return JSON.parse(await readFile(portsFile(dir), 'utf8')) as ClusterPorts;
}
