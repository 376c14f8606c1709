/**
 * churn on real kubelets: the private cluster of scripts/kube.sh (apiserver, etcd and, by
 * default, two nodes 127.0.0.1 and 127.0.0.2, each a kubelet on its own containerd; binaries
 * from ../shared/tools/kubernetes and Debian), with churn's image built by
 * scripts/churn-image.ts and imported into every node.
 *
 *   - every manifest under deploy/kubernetes passes server-side dry-run;
 *   - `churn cluster run` with the shipped deploy/kubernetes/base/scenario.yaml, every pod on its
 *     own node's containerd through the same hostPath: every node is Ready and its pod ran the
 *     scenario, every node's phases began within 1 s of the start instant, the merged report
 *     lists each node's own figures and its counts are the sums of the node reports, a pod of
 *     the kubelet's own (in k8s.io) on every node kept running untouched, and nothing of
 *     churn's is left in the cluster or in any node's runtime.
 * In CI a missing component (kubectl, etcd, the Kubernetes binaries) or a node that did not
 * come up (CHURN_KUBE_NODES, default 2) fails.
 */
import { readdir, readFile } from 'node:fs/promises';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ContainerdClient } from '../../src/drivers/containerd/client.js';
import { parseReport } from '../../src/report/read.js';
import type { Report } from '../../src/report/schema.js';
import { buildChurnImage, churnImageRef } from '../../scripts/churn-image.js';
import { nodeCount } from '../../scripts/kube.js';
import { importArchive } from '../../scripts/containerd.js';
import { nativeNamespace } from '../../scripts/containerd.js';
import { runChurn } from '../support/churn-process.js';
import { tempDir } from '../support/core-fixtures.js';
import { kubeForTests } from '../support/kube.js';

const kube = await kubeForTests();
afterAll(() => kube.release());

const repoRoot = new URL('../..', import.meta.url).pathname;
const manifests = join(repoRoot, 'deploy', 'kubernetes');

/** Containers in containerd namespace `namespace` of the containerd at `socket`. */
async function containers(
  socket: string,
  namespace: string,
): Promise<{ id: string; labels: Record<string, string> }[]> {
  const client = new ContainerdClient({
    address: socket,
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
    for (const node of kube.nodes) await importArchive(archive, 'k8s.io', node.containerdSocket);
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
      // No prometheus-operator here, so no PodMonitor CRD for a server-side dry-run: the
      // component is built, and what kustomize gives is checked against prometheus-operator's
      // own schema (@kubernetes-models/prometheus-operator).
      const component = await kube.kubectl([
        'kustomize',
        join(manifests, 'components', 'podmonitor'),
      ]);
      expect(component.code, component.stderr).toBe(0);
      const monitors = parseAllDocuments(component.stdout)
        .map((d) => d.toJS() as { kind?: string })
        .filter((o) => o.kind === 'PodMonitor');
      expect(monitors).toHaveLength(1);
      expect(() => new PodMonitor(monitors[0] as never).validate()).not.toThrow();
    } finally {
      await kube.kubectl(['delete', 'namespace', 'churn', '--wait=true']);
    }
  });

  it('runs the shipped scenario on every node at once, merges exactly and leaves nothing', async () => {
    // Every node is up and Ready (in CI as many as CHURN_KUBE_NODES asks for).
    if (process.env['CI'] === 'true') expect(kube.nodes.length).toBe(nodeCount());
    const nodes = JSON.parse((await kube.kubectl(['get', 'nodes', '-o', 'json'])).stdout) as {
      items: {
        metadata: { name: string };
        status: { conditions: { type: string; status: string }[] };
      }[];
    };
    const nodeNames = nodes.items.map((n) => n.metadata.name).sort();
    expect(nodeNames).toEqual(kube.nodes.map((n) => n.name).sort());
    for (const n of nodes.items) {
      expect(n.status.conditions.find((c) => c.type === 'Ready')?.status, n.metadata.name).toBe(
        'True',
      );
    }

    // A pod of the kubelet's own on every node, in k8s.io: it must live through churn's run
    // and sweep.
    const sentinels = kube.nodes.map((node, i) => ({ ...node, pod: `kubelet-sentinel-${i + 1}` }));
    for (const s of sentinels) {
      const made = await kube.kubectl([
        'run',
        s.pod,
        '--namespace=default',
        '--image=docker.io/library/busybox:latest',
        '--image-pull-policy=Never',
        '--restart=Never',
        `--overrides={"spec":{"hostNetwork":true,"nodeName":"${s.name}"}}`,
        '--command',
        '--',
        'sleep',
        '3600',
      ]);
      expect(made.code, made.stderr).toBe(0);
    }
    type PodJson = {
      metadata: { uid: string };
      spec: { nodeName: string };
      status: {
        phase: string;
        containerStatuses: { containerID: string; restartCount: number }[];
      };
    };
    const pod = async (name: string): Promise<PodJson> =>
      JSON.parse((await kube.kubectl(['get', 'pod', name, '-o', 'json'])).stdout) as PodJson;
    try {
      const before = new Map<string, PodJson>();
      for (const s of sentinels) {
        const wait = await kube.kubectl([
          'wait',
          '--for=condition=Ready',
          `pod/${s.pod}`,
          '--timeout=60s',
        ]);
        expect(wait.code, wait.stderr).toBe(0);
        const p = await pod(s.pod);
        expect(p.spec.nodeName).toBe(s.name);
        // The sentinel runs on its node's own containerd.
        const ids = (await containers(s.containerdSocket, 'k8s.io')).map((c) => c.id);
        for (const c of p.status.containerStatuses)
          expect(ids.some((id) => c.containerID.endsWith(id))).toBe(true);
        before.set(s.pod, p);
      }

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
          // The same path on every node, each node's own containerd behind it.
          '--socket',
          kube.nodeRuntimeSocket,
          '--start-delay',
          '12s',
          // The run checks the cluster's side: on a loaded machine churn's loop in a pod may lag
          // past its bound, which the report still says (tested in cli-run-verdicts).
          '--allow',
          'harness-bound',
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
      // Every node ran a churn pod, and that pod ran the scenario.
      expect(nodeReports.map((r) => r.environment.labels['node']).sort()).toEqual(nodeNames);
      for (const r of nodeReports) {
        const node = r.environment.labels['node'];
        expect(r.run.scenario, node).toBe('cluster-soak');
        expect(r.run.exitReason, node).toBe('completed');
        expect(r.cycles.succeeded, node).toBeGreaterThan(0);
        expect(r.cycles.failed, node).toBe(0);
        // Aligned: the phases began within 1 s of the shared instant. The report's phase start
        // is the run's wall-clock start plus monotonic time elapsed, which may read a few ms
        // off the wall clock the wait for --start-at used (CI read -1 ms).
        expect(r.run.phasesStart, node).not.toBeNull();
        const offsetMs = Date.parse(r.run.phasesStart!) - Date.parse(startAt!);
        expect(offsetMs, node).toBeGreaterThanOrEqual(-5);
        expect(offsetMs, node).toBeLessThan(1000);
      }
      if (merged !== undefined) {
        // Each node's own figures, as its report has them.
        const parts = merged.mergedFrom!;
        expect(parts.map((p) => p.labels['node']).sort()).toEqual(nodeNames);
        for (const part of parts) {
          const own = nodeReports.find((r) => r.environment.labels['node'] === part.labels['node']);
          expect(part.id).toBe(own!.run.id);
          expect(part.exitReason).toBe('completed');
          expect(part.cycles?.succeeded).toBe(own!.cycles.succeeded);
          expect(part.cycles?.failed).toBe(0);
          expect(part.phasesStart).toBe(own!.run.phasesStart);
        }
        // The merged counts are the sums of the node reports'.
        for (const [op, o] of Object.entries(merged.operations)) {
          const ops = nodeReports.map((r) => r.operations[op as keyof Report['operations']]);
          expect(o.count).toBe(ops.reduce((s, p) => s + (p?.count ?? 0), 0));
          expect(o.errors).toBe(ops.reduce((s, p) => s + (p?.errors ?? 0), 0));
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
      for (const s of sentinels) {
        expect(await containers(s.containerdSocket, nativeNamespace), s.name).toEqual([]);
        // churn's pods were the kubelet's (k8s.io) and went with their Jobs; the sentinel's
        // containers are untouched and nothing in k8s.io carries churn's run label.
        const was = before.get(s.pod)!;
        const after = await pod(s.pod);
        expect(after.metadata.uid).toBe(was.metadata.uid);
        expect(after.status.phase).toBe('Running');
        const ids = (statuses: PodJson['status']['containerStatuses']): [string, number][] =>
          statuses.map((c) => [c.containerID, c.restartCount]);
        expect(ids(after.status.containerStatuses)).toEqual(
          ids(was.status.containerStatuses).map(([id]) => [id, 0]),
        );
        const runtime = await containers(s.containerdSocket, 'k8s.io');
        for (const c of was.status.containerStatuses) {
          expect(
            runtime.some((r) => c.containerID.endsWith(r.id)),
            s.name,
          ).toBe(true);
        }
        expect(
          runtime.filter((c) => c.labels['churn.run-id'] !== undefined),
          s.name,
        ).toEqual([]);
      }
    } finally {
      for (const s of sentinels) {
        await kube.kubectl([
          'delete',
          'pod',
          s.pod,
          '--namespace=default',
          '--grace-period=0',
          '--force',
        ]);
      }
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
