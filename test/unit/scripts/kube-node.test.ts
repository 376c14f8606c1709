import { describe, expect, it } from 'vitest';
import { nodeCount } from '../../../scripts/kube.js';
import {
  kubeletCommand,
  kubeletConfig,
  kubeNode,
  kubeNodes,
  maxNodes,
  nodeRuntimeSocket,
} from '../../../scripts/kube-node.js';

describe('the private cluster nodes (scripts/kube-node.ts)', () => {
  it('CHURN_KUBE_NODES: default 2, 1 or 2, anything else refused', () => {
    expect(nodeCount({})).toBe(2);
    expect(nodeCount({ CHURN_KUBE_NODES: '' })).toBe(maxNodes);
    expect(nodeCount({ CHURN_KUBE_NODES: '1' })).toBe(1);
    expect(nodeCount({ CHURN_KUBE_NODES: '2' })).toBe(2);
    for (const bad of ['0', '3', '1.5', 'two'])
      expect(() => nodeCount({ CHURN_KUBE_NODES: bad }), bad).toThrow(/CHURN_KUBE_NODES/);
  });

  it('gives every node its own address, runtime, kubelet dirs and namespace', () => {
    const nodes = kubeNodes('/tmp/k');
    expect(nodes.map((n) => n.name)).toEqual(['127.0.0.1', '127.0.0.2']);
    const own = (pick: (n: (typeof nodes)[number]) => string): void =>
      expect(new Set(nodes.map(pick)).size).toBe(nodes.length);
    own((n) => n.containerd.socket);
    own((n) => n.containerd.dir);
    own((n) => n.kubeletRoot);
    own((n) => n.certDir);
    own((n) => n.kubeconfig);
    own((n) => n.clientCert);
    own((n) => n.ns.nsFile);
    own((n) => n.ns.varlog);
    own((n) => n.ns.varlib);
    own((n) => n.log);
    own((n) => n.pidFile);
    // Node 1 keeps the single-node layout.
    expect(nodes[0]!.containerd.socket).toBe('/tmp/k/containerd/containerd.sock');
    expect(nodes[1]!.containerd.socket).toBe('/tmp/k/node2/containerd/containerd.sock');
  });

  it("binds each node's own containerd dir at the one path every pod mounts", () => {
    expect(nodeRuntimeSocket('/tmp/k')).toBe('/tmp/k/node-runtime/containerd.sock');
    for (const node of kubeNodes('/tmp/k')) {
      expect(node.ns.binds).toEqual([[node.containerd.dir, '/tmp/k/node-runtime']]);
    }
  });

  it("puts each kubelet on its node's address and ports", () => {
    const node = kubeNode('/tmp/k', 2);
    const config = kubeletConfig(node, { kubelet: 10350, kubeletHealthz: 10348 }, '/tmp/k/ca.crt');
    expect(config).toContain('address: 127.0.0.2\nport: 10350\n');
    expect(config).toContain('healthzBindAddress: 127.0.0.2\nhealthzPort: 10348\n');
    const args = kubeletCommand(node, '/tmp/k/bin');
    expect(args).toContain('--hostname-override=127.0.0.2');
    expect(args).toContain(`--container-runtime-endpoint=${node.containerd.endpoint}`);
    expect(args).toContain(`--root-dir=${node.kubeletRoot}`);
    expect(args).toContain(`--cert-dir=${node.certDir}`);
  });
});
