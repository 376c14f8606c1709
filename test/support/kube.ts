/**
 * The private Kubernetes cluster for e2e tests (scripts/kube.ts): used when it runs already,
 * started otherwise (CHURN_KUBE_NODES nodes, default 2) and then stopped again after the
 * file's tests. Where it cannot run (not root, no etcd or kubectl, no
 * ../shared/tools/kubernetes), tests skip — except in CI (`CI=true`), where that is a failure,
 * as is a node that did not come up.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  clusterNodes,
  kubePaths,
  runningPid,
  startCluster,
  stopCluster,
  type KubePaths,
} from '../../scripts/kube.js';

const run = promisify(execFile);

/** The cluster the tests use, or why there is none. */
export interface TestKube {
  readonly skipReason: string | undefined;
  readonly paths: KubePaths;
  /** The admin kubeconfig. */
  readonly kubeconfig: string;
  /** Node 1's containerd socket. */
  readonly containerdSocket: string;
  /** The nodes that are up: name, and the node's containerd socket as the host sees it. */
  readonly nodes: readonly { readonly name: string; readonly containerdSocket: string }[];
  /** Each node's own containerd socket as its pods see it (the same path on every node). */
  readonly nodeRuntimeSocket: string;
  /** Runs kubectl with the admin kubeconfig; resolves its exit code and output. */
  kubectl(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Stops the cluster if this call started it. */
  release(): Promise<void>;
}

/** Finds or starts the private cluster; see the module comment. */
export async function kubeForTests(): Promise<TestKube> {
  const paths = kubePaths();
  const kubectl = async (
    args: readonly string[],
  ): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const { stdout, stderr } = await run(
        'kubectl',
        ['--kubeconfig', paths.adminKubeconfig, ...args],
        {
          maxBuffer: 64 << 20,
        },
      );
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof e.code === 'number' ? e.code : 1,
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? '',
      };
    }
  };
  const base = {
    paths,
    kubeconfig: paths.adminKubeconfig,
    containerdSocket: paths.containerd.socket,
    nodes: [],
    nodeRuntimeSocket: paths.nodeRuntimeSocket,
    kubectl,
  };
  const nodes = async (): Promise<TestKube['nodes']> =>
    (await clusterNodes(paths)).map((n) => ({
      name: n.name,
      containerdSocket: n.containerd.socket,
    }));
  const unavailable = (reason: string): TestKube => {
    if (process.env['CI'] === 'true')
      throw new Error(`the private Kubernetes cluster is required in CI but ${reason}`);
    return { ...base, skipReason: reason, release: () => Promise.resolve() };
  };
  if (process.platform !== 'linux') return unavailable('this is not Linux');
  if (process.getuid?.() !== 0) return unavailable('the private cluster needs root');
  if (!existsSync(join(paths.tools, 'kubelet.xz'))) {
    return unavailable(`${paths.tools} has no kubelet.xz (see docs/kubernetes.md)`);
  }
  try {
    await run('kubectl', ['version', '--client']);
  } catch {
    return unavailable('kubectl is not on PATH');
  }
  if ((await runningPid(paths)) !== undefined) {
    return {
      ...base,
      nodes: await nodes(),
      skipReason: undefined,
      release: () => Promise.resolve(),
    };
  }
  try {
    await startCluster(paths);
  } catch (err) {
    return unavailable(`it could not be started: ${(err as Error).message}`);
  }
  return {
    ...base,
    nodes: await nodes(),
    skipReason: undefined,
    release: () => stopCluster(paths),
  };
}
