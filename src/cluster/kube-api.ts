/**
 * The few Kubernetes API calls `churn cluster` makes, behind an interface so the coordinator is
 * tested without a cluster; {@link connectKube} implements it with @kubernetes/client-node and
 * the user's kubeconfig ($KUBECONFIG, ~/.kube/config, or the in-cluster service account).
 *
 * @kubernetes/client-node is imported when `churn cluster` connects, never at start-up: loading
 * it and what it pulls in (fetch, WebSocket, proxy and JSONPath libraries) costs more CPU than
 * the rest of churn's modules together, and every other command would pay for it.
 */
import type { BatchV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ChurnError } from '../common/errors.js';
import type { KubeObject } from './objects.js';

/** A pod as the coordinator sees it. */
export interface PodView {
  readonly name: string;
  readonly node: string | undefined;
  /** Pending, Running, Succeeded, Failed, Unknown. */
  readonly phase: string;
  /** The container's exit code once it terminated. */
  readonly exitCode: number | undefined;
  /** Why it is not running yet or failed (a waiting or terminated reason), for messages. */
  readonly reason: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
}

/** What `churn cluster` needs of the API server. */
export interface KubeApi {
  /** The API server's address, for messages. */
  readonly server: string;
  /** Names of the nodes matching `labelSelector` (all when undefined), Ready ones only. */
  readyNodes(labelSelector?: string): Promise<string[]>;
  /** Creates the namespace unless it exists; resolves whether it created it. */
  ensureNamespace(name: string, labels: Readonly<Record<string, string>>): Promise<boolean>;
  deleteNamespace(name: string): Promise<void>;
  namespaceExists(name: string): Promise<boolean>;
  create(object: KubeObject): Promise<void>;
  listPods(namespace: string, labelSelector: string): Promise<PodView[]>;
  /** The pod's log (both streams), its last `tailLines` lines when given. */
  podLog(namespace: string, pod: string, tailLines?: number): Promise<string>;
  /** Deletes the Jobs, ConfigMaps and pods matching `labelSelector`; resolves how many of each. */
  deleteLabelled(
    namespace: string,
    labelSelector: string,
  ): Promise<{ jobs: number; configMaps: number; pods: number }>;
  /** Namespaces holding objects that match `labelSelector` (jobs, configmaps or pods). */
  namespacesWith(labelSelector: string): Promise<string[]>;
}

type ClientNode = typeof import('@kubernetes/client-node');

/** Connects with the kubeconfig at `path`, else the default one; rejects ENDPOINT_INVALID. */
export async function connectKube(path?: string): Promise<KubeApi> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  try {
    if (path !== undefined) kc.loadFromFile(path);
    else kc.loadFromDefault();
  } catch (err) {
    throw new ChurnError(
      'ENDPOINT_INVALID',
      `kubeconfig ${path ?? '(default)'}: ${(err as Error).message}`,
    );
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null) {
    throw new ChurnError(
      'ENDPOINT_INVALID',
      `kubeconfig ${path ?? '(default)'}: no current cluster (set KUBECONFIG or --kubeconfig)`,
    );
  }
  return new ClientNodeApi(k8s, kc, cluster.server);
}

class ClientNodeApi implements KubeApi {
  readonly #k8s: ClientNode;
  readonly #core: CoreV1Api;
  readonly #batch: BatchV1Api;

  constructor(
    k8s: ClientNode,
    kc: KubeConfig,
    readonly server: string,
  ) {
    this.#k8s = k8s;
    this.#core = kc.makeApiClient(k8s.CoreV1Api);
    this.#batch = kc.makeApiClient(k8s.BatchV1Api);
  }

  async readyNodes(labelSelector?: string): Promise<string[]> {
    const list = await this.#core.listNode(labelSelector === undefined ? {} : { labelSelector });
    return list.items
      .filter(
        (n) =>
          n.spec?.unschedulable !== true &&
          (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
      )
      .map((n) => n.metadata?.name ?? '')
      .filter((name) => name !== '')
      .sort();
  }

  async namespaceExists(name: string): Promise<boolean> {
    try {
      await this.#core.readNamespace({ name });
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    }
  }

  async ensureNamespace(name: string, labels: Readonly<Record<string, string>>): Promise<boolean> {
    if (await this.namespaceExists(name)) return false;
    const metadata = Object.assign(new this.#k8s.V1ObjectMeta(), { name, labels: { ...labels } });
    const body = Object.assign(new this.#k8s.V1Namespace(), { metadata });
    await this.#core.createNamespace({ body });
    return true;
  }

  async deleteNamespace(name: string): Promise<void> {
    try {
      await this.#core.deleteNamespace({ name });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
  }

  async create(object: KubeObject): Promise<void> {
    const metadata = object['metadata'] as { namespace: string };
    switch (object['kind']) {
      case 'ConfigMap':
        await this.#core.createNamespacedConfigMap({
          namespace: metadata.namespace,
          body: object,
        });
        return;
      case 'Job':
        await this.#batch.createNamespacedJob({
          namespace: metadata.namespace,
          body: object,
        });
        return;
      default:
        throw new Error(`cannot create a ${String(object['kind'])}`);
    }
  }

  async listPods(namespace: string, labelSelector: string): Promise<PodView[]> {
    const list = await this.#core.listNamespacedPod({ namespace, labelSelector });
    return list.items.map((pod) => {
      const status = pod.status?.containerStatuses?.[0];
      const terminated = status?.state?.terminated;
      return {
        name: pod.metadata?.name ?? '',
        node: pod.spec?.nodeName,
        phase: pod.status?.phase ?? 'Unknown',
        exitCode: terminated?.exitCode,
        reason: terminated?.reason ?? status?.state?.waiting?.reason ?? pod.status?.reason,
        labels: pod.metadata?.labels ?? {},
      };
    });
  }

  async podLog(namespace: string, pod: string, tailLines?: number): Promise<string> {
    return this.#core.readNamespacedPodLog({
      name: pod,
      namespace,
      ...(tailLines === undefined ? {} : { tailLines }),
    });
  }

  async deleteLabelled(
    namespace: string,
    labelSelector: string,
  ): Promise<{ jobs: number; configMaps: number; pods: number }> {
    const jobs = (await this.#batch.listNamespacedJob({ namespace, labelSelector })).items.length;
    const configMaps = (await this.#core.listNamespacedConfigMap({ namespace, labelSelector }))
      .items.length;
    const pods = (await this.#core.listNamespacedPod({ namespace, labelSelector })).items.length;
    // Background: the Jobs go at once, their pods are deleted below (each gets SIGTERM, so
    // churn in it stops, drains and removes what it created on its node).
    if (jobs > 0) {
      await this.#batch.deleteCollectionNamespacedJob({
        namespace,
        labelSelector,
        propagationPolicy: 'Background',
      });
    }
    if (configMaps > 0) {
      await this.#core.deleteCollectionNamespacedConfigMap({ namespace, labelSelector });
    }
    if (pods > 0) await this.#core.deleteCollectionNamespacedPod({ namespace, labelSelector });
    return { jobs, configMaps, pods };
  }

  async namespacesWith(labelSelector: string): Promise<string[]> {
    const names = new Set<string>();
    for (const item of (await this.#batch.listJobForAllNamespaces({ labelSelector })).items) {
      if (item.metadata?.namespace !== undefined) names.add(item.metadata.namespace);
    }
    for (const item of (await this.#core.listConfigMapForAllNamespaces({ labelSelector })).items) {
      if (item.metadata?.namespace !== undefined) names.add(item.metadata.namespace);
    }
    for (const item of (await this.#core.listPodForAllNamespaces({ labelSelector })).items) {
      if (item.metadata?.namespace !== undefined) names.add(item.metadata.namespace);
    }
    return [...names].sort();
  }
}

/** The HTTP status of a client-node ApiException, if it is one. */
function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}
