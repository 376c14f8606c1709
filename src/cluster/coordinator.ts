/**
 * `churn cluster run`'s work, as a client of the Kubernetes API (no agents of churn's own):
 *
 *   1. choose the nodes (given, or every Ready node matching a selector);
 *   2. create the namespace if missing, a ConfigMap with the scenario and one Job per node
 *      (objects.ts), every pod told the same start instant (now + startDelay);
 *   3. poll the pods every second and each running pod's last status line every 2 s, calling
 *      `onProgress` with the cluster-wide figures;
 *   4. when every pod has terminated, read each one's report from its log (pod-log.ts);
 *   5. always (done, failed, timed out or stopped by the signal) delete what it created, wait
 *      until the pods are gone (each churn got SIGTERM, drained and removed its containers),
 *      and the namespace if it made it.
 * Merging, writing and the verdict are the caller's.
 */
import type { Clock } from '../common/clock.js';
import { ChurnError } from '../common/errors.js';
import { randomHexId } from '../common/random-id.js';
import { parseReport } from '../report/read.js';
import type { Report } from '../report/schema.js';
import type { KubeApi, PodView } from './kube-api.js';
import { churnSelector, nodeLabel, runLabels } from './labels.js';
import { nodeJob, scenarioConfigMap, type ClusterRunSpec } from './objects.js';
import { lastProgress, messageLines, reportText, type NodeProgress } from './pod-log.js';

/** What {@link runCluster} is asked to do. */
export interface ClusterRunOptions extends Omit<ClusterRunSpec, 'runId' | 'nodes' | 'startAt'> {
  /** Node names; when undefined, every Ready node matching `nodeSelector`. */
  readonly nodes: readonly string[] | undefined;
  readonly nodeSelector: string | undefined;
  /** From the objects' creation to the start instant, ms. */
  readonly startDelayMs: number;
  /** Longest the pods may take, from creation to the last one's end, ms. */
  readonly timeoutMs: number;
  /** Run id; random when undefined. */
  readonly runId?: string;
}

/** The live cluster-wide figures. */
export interface ClusterProgress {
  readonly runId: string;
  readonly nodes: number;
  /** Pods by phase (Pending, Running, Succeeded, Failed). */
  readonly phases: Readonly<Record<string, number>>;
  /** Sums of the nodes' last status lines; undefined before the first. */
  readonly cyclesSucceeded: number;
  readonly errors: number;
  readonly cyclesPerSec: number;
  /** Longest elapsed and planned time among the nodes, ms. */
  readonly elapsedMs: number;
  readonly totalMs: number;
  /** ms until the start instant (negative: past). */
  readonly untilStartMs: number;
}

/** What one node's pod gave. */
export interface NodeOutcome {
  readonly node: string;
  readonly pod: string | undefined;
  readonly exitCode: number | undefined;
  /** Its report, or why there is none. */
  readonly report: Report | undefined;
  readonly error: string | undefined;
  /** churn's own messages in the log (threshold failures, warnings). */
  readonly messages: readonly string[];
}

/** What {@link runCluster} resolves. */
export interface ClusterRunResult {
  readonly runId: string;
  readonly namespace: string;
  readonly startAt: string;
  readonly nodes: readonly NodeOutcome[];
  /** How it ended: every pod terminated, the timeout, or the signal. */
  readonly state: 'completed' | 'timed-out' | 'interrupted';
  /** Wall-clock ms: when it began, when every pod was Running (undefined: never). */
  readonly startedWallMs: number;
  readonly allRunningWallMs: number | undefined;
  /** What cleanup removed, and what it could not (messages). */
  readonly cleanup: { readonly jobs: number; readonly configMaps: number; readonly pods: number };
  readonly cleanupErrors: readonly string[];
}

/** Hooks of {@link runCluster}. */
export interface ClusterRunHooks {
  readonly api: KubeApi;
  readonly clock: Clock;
  /** Stops the run: the pods are deleted (churn in each drains and cleans up). */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ClusterProgress) => void;
  /** One line of news (objects created, a pod failed). */
  readonly log?: (line: string) => void;
}

const pollMs = 1000;
const progressEveryMs = 2000;
const cleanupTimeoutMs = 120_000;

/** Runs the scenario on the nodes; see the module comment. */
export async function runCluster(
  options: ClusterRunOptions,
  hooks: ClusterRunHooks,
): Promise<ClusterRunResult> {
  const { api, clock } = hooks;
  const log = hooks.log ?? (() => undefined);
  const startedWallMs = clock.wallNowMs();
  const nodes = await chooseNodes(api, options);
  const runId = options.runId ?? randomHexId(5);
  const startAt = new Date(clock.wallNowMs() + options.startDelayMs).toISOString();
  const spec: ClusterRunSpec = { ...options, runId, nodes, startAt };

  const createdNamespace = await api.ensureNamespace(options.namespace, runLabels(runId));
  let state: ClusterRunResult['state'] = 'completed';
  let allRunningWallMs: number | undefined;
  const outcomes = new Map<string, NodeOutcome>();
  let cleaned: CleanupOutcome | undefined;
  try {
    await api.create(scenarioConfigMap(spec));
    for (let i = 0; i < nodes.length; i++) await api.create(nodeJob(spec, i));
    log(
      `run ${runId}: ${nodes.length} job(s) in namespace ${options.namespace} on ${nodes.join(', ')}; start at ${startAt}`,
    );
    const deadline = clock.now() + options.timeoutMs;
    const progress = new Map<string, NodeProgress>();
    let lastProgressAt = Number.NEGATIVE_INFINITY;
    for (;;) {
      if (hooks.signal?.aborted === true) {
        state = 'interrupted';
        break;
      }
      const pods = await api.listPods(options.namespace, churnSelector(runId));
      const byNode = podsByNode(pods);
      if (allRunningWallMs === undefined && nodes.every((n) => started(byNode.get(n)))) {
        allRunningWallMs = clock.wallNowMs();
      }
      if (clock.now() - lastProgressAt >= progressEveryMs) {
        lastProgressAt = clock.now();
        for (const pod of pods) {
          if (pod.phase !== 'Running') continue;
          const tail = await api.podLog(options.namespace, pod.name, 8).catch(() => '');
          const p = lastProgress(tail);
          if (p !== undefined) progress.set(pod.name, p);
        }
      }
      hooks.onProgress?.(
        summarize(runId, nodes.length, pods, [...progress.values()], startAt, clock),
      );
      if (nodes.every((n) => terminated(byNode.get(n)))) break;
      if (clock.now() > deadline) {
        state = 'timed-out';
        break;
      }
      try {
        await clock.sleep(pollMs, hooks.signal);
      } catch {
        state = 'interrupted';
        break;
      }
    }
    if (state === 'completed') {
      const pods = podsByNode(await api.listPods(options.namespace, churnSelector(runId)));
      for (const node of nodes)
        outcomes.set(node, await collect(api, options.namespace, node, pods.get(node)));
    }
  } finally {
    // Cleanup is never cut short by the signal that stopped the run.
    cleaned = await cleanUp(api, options.namespace, runId, createdNamespace, clock);
    for (const node of nodes) {
      if (!outcomes.has(node)) {
        outcomes.set(node, {
          node,
          pod: undefined,
          exitCode: undefined,
          report: undefined,
          error: state === 'timed-out' ? 'timed out' : 'stopped',
          messages: [],
        });
      }
    }
  }
  return {
    runId,
    namespace: options.namespace,
    startAt,
    nodes: nodes.map((n) => outcomes.get(n)!),
    state,
    startedWallMs,
    allRunningWallMs,
    cleanup: cleaned.removed,
    cleanupErrors: cleaned.errors,
  };
}

async function chooseNodes(api: KubeApi, options: ClusterRunOptions): Promise<string[]> {
  const ready = await api.readyNodes(options.nodeSelector);
  if (options.nodes !== undefined) {
    const missing = options.nodes.filter((n) => !ready.includes(n));
    if (missing.length > 0) {
      throw new ChurnError(
        'USAGE',
        `--nodes: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not a Ready node${options.nodeSelector === undefined ? '' : ` matching ${options.nodeSelector}`} of ${api.server} (Ready: ${ready.join(', ') || 'none'})`,
      );
    }
    return [...new Set(options.nodes)];
  }
  if (ready.length === 0) {
    throw new ChurnError(
      'USAGE',
      `no Ready node${options.nodeSelector === undefined ? '' : ` matches --node-selector ${options.nodeSelector}`} in ${api.server}`,
    );
  }
  return ready;
}

function podsByNode(pods: readonly PodView[]): Map<string, PodView> {
  const map = new Map<string, PodView>();
  for (const pod of pods) {
    const node = pod.node ?? pod.labels[nodeLabel];
    if (node !== undefined) map.set(node, pod);
  }
  return map;
}

const started = (pod: PodView | undefined): boolean =>
  pod !== undefined && pod.phase !== 'Pending' && pod.phase !== 'Unknown';
const terminated = (pod: PodView | undefined): boolean =>
  pod !== undefined && (pod.phase === 'Succeeded' || pod.phase === 'Failed');

function summarize(
  runId: string,
  nodes: number,
  pods: readonly PodView[],
  progress: readonly NodeProgress[],
  startAt: string,
  clock: Clock,
): ClusterProgress {
  const phases: Record<string, number> = {};
  for (const pod of pods) phases[pod.phase] = (phases[pod.phase] ?? 0) + 1;
  return {
    runId,
    nodes,
    phases,
    cyclesSucceeded: progress.reduce((s, p) => s + p.cycles.succeeded, 0),
    errors: progress.reduce((s, p) => s + p.errors, 0),
    cyclesPerSec: progress.reduce((s, p) => s + p.cyclesPerSec, 0),
    elapsedMs: Math.max(0, ...progress.map((p) => p.elapsedMs)),
    totalMs: Math.max(0, ...progress.map((p) => p.totalMs)),
    untilStartMs: Date.parse(startAt) - clock.wallNowMs(),
  };
}

/** Reads node `node`'s report from its pod's log. */
async function collect(
  api: KubeApi,
  namespace: string,
  node: string,
  pod: PodView | undefined,
): Promise<NodeOutcome> {
  if (pod === undefined) {
    return {
      node,
      pod: undefined,
      exitCode: undefined,
      report: undefined,
      error: 'no pod',
      messages: [],
    };
  }
  let log: string;
  try {
    log = await api.podLog(namespace, pod.name);
  } catch (err) {
    return {
      node,
      pod: pod.name,
      exitCode: pod.exitCode,
      report: undefined,
      error: `cannot read the log of pod ${pod.name}: ${(err as Error).message}`,
      messages: [],
    };
  }
  const messages = messageLines(log);
  const text = reportText(log);
  if (text === undefined) {
    return {
      node,
      pod: pod.name,
      exitCode: pod.exitCode,
      report: undefined,
      error: `pod ${pod.name} (${pod.reason ?? pod.phase}, exit ${pod.exitCode ?? '?'}) wrote no report${messages.length > 0 ? `: ${messages.slice(-3).join(' / ')}` : ''}`,
      messages,
    };
  }
  try {
    const report = parseReport(text, `pod ${pod.name} on node ${node}`);
    return { node, pod: pod.name, exitCode: pod.exitCode, report, error: undefined, messages };
  } catch (err) {
    return {
      node,
      pod: pod.name,
      exitCode: pod.exitCode,
      report: undefined,
      error: (err as Error).message,
      messages,
    };
  }
}

interface CleanupOutcome {
  readonly removed: { readonly jobs: number; readonly configMaps: number; readonly pods: number };
  readonly errors: string[];
}

/**
 * Deletes run `runId`'s objects and waits until its pods are gone; then the namespace, when
 * the run created it. Errors are collected, not thrown: cleanup does what it can.
 */
export async function cleanUp(
  api: KubeApi,
  namespace: string,
  runId: string | undefined,
  deleteNamespace: boolean,
  clock: Clock,
): Promise<CleanupOutcome> {
  const errors: string[] = [];
  const selector = churnSelector(runId);
  let removed = { jobs: 0, configMaps: 0, pods: 0 };
  try {
    removed = await api.deleteLabelled(namespace, selector);
    const deadline = clock.now() + cleanupTimeoutMs;
    for (;;) {
      const left = await api.listPods(namespace, selector);
      if (left.length === 0) break;
      if (clock.now() > deadline) {
        errors.push(
          `${left.length} pod(s) still terminating in namespace ${namespace}: ${left.map((p) => p.name).join(', ')}`,
        );
        break;
      }
      await clock.sleep(500);
    }
    if (deleteNamespace) {
      await api.deleteNamespace(namespace);
      const nsDeadline = clock.now() + cleanupTimeoutMs;
      while (await api.namespaceExists(namespace)) {
        if (clock.now() > nsDeadline) {
          errors.push(`namespace ${namespace} still terminating`);
          break;
        }
        await clock.sleep(500);
      }
    }
  } catch (err) {
    errors.push((err as Error).message);
  }
  return { removed, errors };
}
