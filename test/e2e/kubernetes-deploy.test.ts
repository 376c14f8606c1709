/**
 * churn on a real kubelet: the private single-node cluster of scripts/kube.sh (kubelet,
 * apiserver, etcd from ../shared/tools/kubernetes and Debian) on its own containerd, with
 * churn's image built by scripts/churn-image.ts and imported into the node.
 *
 *   - every manifest under deploy/kubernetes passes server-side dry-run;
 *   - `churn cluster run` with the shipped deploy/kubernetes/base/scenario.yaml: every node's pod
 *     ran it, the nodes' phases began within 1 s of the start instant, the merged report's
 *     counts are the sums of the node reports, a pod of the kubelet's own (in k8s.io) kept
 *     running untouched, and nothing of churn's is left in the cluster or the runtime.
 * In CI a missing component (kubectl, etcd, the Kubernetes binaries) fails.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerdClient } from '../../src/drivers/containerd/client.js';
import { parseReport } from '../../src/report/read.js';
import type { Report } from '../../src/report/schema.js';
import { buildChurnImage, churnImageRef } from '../../scripts/churn-image.js';
import { importArchive } from '../../scripts/containerd.js';
import { nativeNamespace } from '../../scripts/containerd.js';
import { runChurn } from '../support/churn-process.js';
import { tempDir } from '../support/core-fixtures.js';
import { kubeForTests } from '../support/kube.js';

const kube = await kubeForTests();
afterAll(() => kube.release());

const repoRoot = new URL('../..', import.meta.url).pathname;
const manifests = join(repoRoot, 'deploy', 'kubernetes');

/** Containers in containerd namespace `namespace` of the node. */
async function containers(
  namespace: string,
): Promise<{ id: string; labels: Record<string, string> }[]> {
  const client = new ContainerdClient({
    address: kube.containerdSocket,
    namespace,
    callTimeoutMs: 30_000,
  });
  try {
    const { containers: list } = await client.call<{
      containers: { id: string; labels?: Record<string, string> }[];
    }>('containers', 'List', { filters: [] });
    return list.map((c) => ({ id: c.id, labels: c.labels ?? {} }));
  } finally {
    client.close();
  }
}

async function reportsUnder(dir: string): Promise<Report[]> {
  const reports: Report[] = [];
  for (const scenario of await readdir(dir)) {
    for (const file of await readdir(join(dir, scenario))) {
      const path = join(dir, scenario, file);
      reports.push(parseReport(await readFile(path, 'utf8'), path));
    }
  }
  return reports;
}

describe.skipIf(kube.skipReason !== undefined)('churn on Kubernetes (private cluster)', () => {
  beforeAll(async () => {
    const archive = join(kube.paths.dir, 'churn-image.tar');
    await buildChurnImage({ out: archive });
    await importArchive(archive, 'k8s.io', kube.containerdSocket);
  });

  it('passes server-side dry-run: base, job and overlays/test', async () => {
    // Namespaced objects dry-run only into an existing namespace.
    const ns = await kube.kubectl(['create', 'namespace', 'churn']);
    expect(ns.code, ns.stderr).toBe(0);
    try {
      for (const dir of ['base', 'job', 'overlays/test']) {
        const { code, stdout, stderr } = await kube.kubectl([
          'apply',
          '-k',
          join(manifests, dir),
          '--dry-run=server',
        ]);
        expect(code, `${dir}: ${stderr}`).toBe(0);
        const workload = dir === 'job' ? 'job.batch/churn-nightly' : 'daemonset.apps/churn';
        expect(stdout).toContain(`${workload} created (server dry run)`);
        expect(stdout).toContain('configmap/churn-scenario created (server dry run)');
        expect(stdout).toContain('role.rbac.authorization.k8s.io/churn-cluster-runner created');
      }
      // No prometheus-operator here, so no PodMonitor CRD: the component is only built.
      const component = await kube.kubectl([
        'kustomize',
        join(manifests, 'components', 'podmonitor'),
      ]);
      expect(component.code, component.stderr).toBe(0);
      expect(component.stdout).toContain('kind: PodMonitor');
    } finally {
      await kube.kubectl(['delete', 'namespace', 'churn', '--wait=true']);
    }
  });

  it('runs the shipped scenario on every node at once, merges exactly and leaves nothing', async () => {
    // A pod of the kubelet's own, in k8s.io: it must live through churn's run and sweep.
    const sentinel = await kube.kubectl([
      'run',
      'kubelet-sentinel',
      '--namespace=default',
      '--image=docker.io/library/busybox:latest',
      '--image-pull-policy=Never',
      '--restart=Never',
      '--overrides={"spec":{"hostNetwork":true}}',
      '--command',
      '--',
      'sleep',
      '3600',
    ]);
    expect(sentinel.code, sentinel.stderr).toBe(0);
    try {
      const wait = await kube.kubectl([
        'wait',
        '--for=condition=Ready',
        'pod/kubelet-sentinel',
        '--timeout=60s',
      ]);
      expect(wait.code, wait.stderr).toBe(0);
      const before = JSON.parse(
        (await kube.kubectl(['get', 'pod', 'kubelet-sentinel', '-o', 'json'])).stdout,
      ) as {
        metadata: { uid: string };
        status: { containerStatuses: { containerID: string; restartCount: number }[] };
      };
      const kubeletContainersBefore = (await containers('k8s.io')).map((c) => c.id).sort();

      const nodes = JSON.parse((await kube.kubectl(['get', 'nodes', '-o', 'json'])).stdout) as {
        items: { metadata: { name: string } }[];
      };
      const nodeNames = nodes.items.map((n) => n.metadata.name).sort();
      expect(nodeNames.length).toBeGreaterThan(0);

      const reportDir = await tempDir('churn-k8s-reports-');
      const { code, stdout, stderr } = await runChurn(
        [
          'cluster',
          'run',
          join(repoRoot, 'deploy', 'kubernetes', 'base', 'scenario.yaml'),
          '--duration',
          '6s',
          '--namespace',
          'churn-e2e',
          '--image',
          churnImageRef,
          '--image-pull-policy',
          'Never',
          '--host-network',
          '--socket',
          kube.containerdSocket,
          '--start-delay',
          '12s',
          '--report-dir',
          reportDir,
        ],
        repoRoot,
        { env: { KUBECONFIG: kube.kubeconfig } },
      );
      expect(code, `${stderr}\n${stdout}`).toBe(0);
      const startAt = /start instant (\S+),/.exec(stdout)?.[1];
      expect(startAt, stdout).toBeDefined();

      const reports = await reportsUnder(reportDir);
      const merged =
        nodeNames.length === 1 ? undefined : reports.find((r) => r.mergedFrom !== null);
      const nodeReports = reports.filter((r) => r.mergedFrom === null);
      // Every node's pod ran the scenario.
      expect(nodeReports.map((r) => r.environment.labels['node']).sort()).toEqual(nodeNames);
      for (const r of nodeReports) {
        expect(r.run.scenario).toBe('cluster-soak');
        expect(r.run.exitReason).toBe('completed');
        expect(r.cycles.succeeded).toBeGreaterThan(0);
        expect(r.cycles.failed).toBe(0);
        // Aligned: the phases began within 1 s of the shared instant.
        expect(r.run.phasesStart).not.toBeNull();
        const offsetMs = Date.parse(r.run.phasesStart!) - Date.parse(startAt!);
        expect(offsetMs).toBeGreaterThanOrEqual(0);
        expect(offsetMs).toBeLessThan(1000);
      }
      if (merged !== undefined) {
        // The merged counts are the sums of the node reports'.
        for (const [op, o] of Object.entries(merged.operations)) {
          const parts = nodeReports.map((r) => r.operations[op as keyof Report['operations']]);
          expect(o.count).toBe(parts.reduce((s, p) => s + (p?.count ?? 0), 0));
          expect(o.errors).toBe(parts.reduce((s, p) => s + (p?.errors ?? 0), 0));
        }
        expect(merged.cycles.succeeded).toBe(
          nodeReports.reduce((s, r) => s + r.cycles.succeeded, 0),
        );
      }
      expect(stdout).toContain('merged report');

      // Nothing of churn's left: no object in the cluster, no namespace, no container.
      const left = await kube.kubectl([
        'get',
        'jobs,pods,configmaps',
        '--all-namespaces',
        '-l',
        'app.kubernetes.io/managed-by=churn',
        '-o',
        'name',
      ]);
      expect(left.code, left.stderr).toBe(0);
      expect(left.stdout.trim()).toBe('');
      expect((await kube.kubectl(['get', 'namespace', 'churn-e2e'])).code).not.toBe(0);
      expect(await containers(nativeNamespace)).toEqual([]);
      // churn's pods were the kubelet's (k8s.io) and went with their Jobs; the sentinel's
      // containers are untouched and nothing in k8s.io carries churn's run label.
      const after = JSON.parse(
        (await kube.kubectl(['get', 'pod', 'kubelet-sentinel', '-o', 'json'])).stdout,
      ) as typeof before & { status: { phase: string } };
      expect(after.metadata.uid).toBe(before.metadata.uid);
      expect(after.status.phase).toBe('Running');
      const ids = (statuses: typeof before.status.containerStatuses): [string, number][] =>
        statuses.map((s) => [s.containerID, s.restartCount]);
      expect(ids(after.status.containerStatuses)).toEqual(
        ids(before.status.containerStatuses).map(([id]) => [id, 0]),
      );
      const kubeletContainersAfter = await containers('k8s.io');
      for (const id of kubeletContainersBefore.filter((id) =>
        before.status.containerStatuses.some((s) => s.containerID.endsWith(id)),
      )) {
        expect(kubeletContainersAfter.map((c) => c.id)).toContain(id);
      }
      expect(kubeletContainersAfter.filter((c) => c.labels['churn.run-id'] !== undefined)).toEqual(
        [],
      );
    } finally {
      await kube.kubectl([
        'delete',
        'pod',
        'kubelet-sentinel',
        '--namespace=default',
        '--grace-period=0',
        '--force',
      ]);
    }
  });

  it('churn cluster cleanup finds nothing left', async () => {
    const { code, stdout, stderr } = await runChurn(['cluster', 'cleanup', '--all'], repoRoot, {
      env: { KUBECONFIG: kube.kubeconfig },
    });
    expect(code, stderr).toBe(0);
    expect(stdout).toContain("nothing of churn's left");
  });
});
