/**
 * The Kubernetes objects of one cluster run, as plain data (no API calls): a ConfigMap with the
 * scenario and one Job per node, its pod pinned to the node (`nodeName`, no scheduler
 * round-trip), running `churn run` once with the shared start instant. The same shape as
 * deploy/kubernetes/job, minus the parts a one-off run does not need.
 */
import { nodeLabel, runLabels } from './labels.js';

/** Where the pod finds the scenario. */
export const scenarioMountDir = '/etc/churn';
/** The scenario's file name in the ConfigMap and the mount. */
export const scenarioFileName = 'scenario.yaml';

/** What the objects are made from. */
export interface ClusterRunSpec {
  readonly runId: string;
  readonly namespace: string;
  /** Node names, one Job each, in this order. */
  readonly nodes: readonly string[];
  readonly image: string;
  readonly imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /** The scenario as the pods read it (target already pointing at the mounted socket). */
  readonly scenarioYaml: string;
  /** ISO instant every node's phases begin at. */
  readonly startAt: string;
  /** The runtime socket on the node, and where the pod sees it. */
  readonly socketHostPath: string;
  readonly socketMountPath: string;
  readonly hostNetwork: boolean;
  /** More `churn run` arguments (overrides such as --duration). */
  readonly extraArgs: readonly string[];
}

/** Name of the ConfigMap of a run. */
export const configMapName = (runId: string): string => `churn-${runId}`;

/** Name of the Job of the run's `index`th node (node names may not be valid object names). */
export const jobName = (runId: string, index: number): string => `churn-${runId}-${index}`;

/** The run id of one node's `churn run` (distinct per node, so the reports merge). */
export const nodeRunId = (runId: string, index: number): string => `${runId}-${index}`;

/** A Kubernetes object as sent to the API server. */
export type KubeObject = Record<string, unknown>;

/** The ConfigMap holding the scenario. */
export function scenarioConfigMap(spec: ClusterRunSpec): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: configMapName(spec.runId),
      namespace: spec.namespace,
      labels: runLabels(spec.runId),
    },
    data: { [scenarioFileName]: spec.scenarioYaml },
  };
}

/** The `churn run` arguments of node `index`. */
export function nodeArgs(spec: ClusterRunSpec, index: number): string[] {
  return [
    'run',
    `${scenarioMountDir}/${scenarioFileName}`,
    '--json',
    '--progress-json',
    '--start-at',
    spec.startAt,
    '--run-id',
    nodeRunId(spec.runId, index),
    '--label',
    'node=$(NODE_NAME)',
    '--label',
    `cluster-run=${spec.runId}`,
    '--report-dir',
    '/tmp/reports',
    ...spec.extraArgs,
  ];
}

/** The Job of node `index`. */
export function nodeJob(spec: ClusterRunSpec, index: number): KubeObject {
  const node = spec.nodes[index];
  if (node === undefined) throw new RangeError(`no node ${index}`);
  const labels = { ...runLabels(spec.runId), [nodeLabel]: labelValue(node) };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: jobName(spec.runId, index), namespace: spec.namespace, labels },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { labels },
        spec: {
          nodeName: node,
          restartPolicy: 'Never',
          hostNetwork: spec.hostNetwork,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 60,
          tolerations: [{ operator: 'Exists' }],
          containers: [
            {
              name: 'churn',
              image: spec.image,
              imagePullPolicy: spec.imagePullPolicy,
              args: nodeArgs(spec, index),
              env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
              resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } },
              securityContext: {
                // The runtime's socket is root's on most nodes; nothing else is kept.
                runAsUser: 0,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                { name: 'scenario', mountPath: scenarioMountDir, readOnly: true },
                { name: 'runtime-socket', mountPath: spec.socketMountPath },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'scenario', configMap: { name: configMapName(spec.runId) } },
            { name: 'runtime-socket', hostPath: { path: spec.socketHostPath, type: 'Socket' } },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  };
}

/** A node name as a label value (63 characters of [A-Za-z0-9._-], alphanumeric ends). */
export function labelValue(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 63);
  return cleaned.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
}
