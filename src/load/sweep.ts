/**
 * Finds and removes what churn runs created, by label: one run's objects (`churn.run-id=ID`)
 * or every churn object (any `churn.run-id`). The runner's final sweep and `churn cleanup`
 * both use it. Failures of single calls are not thrown: what stays is counted afterwards.
 */
import type { Driver, ListFilter } from '../drivers/driver.js';
import { runIdLabel } from './cycle.js';

/** What to sweep: one run, or every object labelled by any churn run. */
export type SweepTarget = { readonly runId: string } | { readonly allRuns: true };

/** What a sweep found, removed, and left. */
export interface SweepResult {
  readonly sweptPods: number;
  readonly sweptContainers: number;
  readonly remainingPods: number;
  readonly remainingContainers: number;
  /** Run ids of the objects found (one for a single-run sweep). */
  readonly runIds: readonly string[];
}

/**
 * Stops and removes the containers, then the pods, of `target`, then lists again and counts
 * what is left. Rejects only when listing fails. Never cancelled: it takes no signal.
 */
export async function sweep(driver: Driver, target: SweepTarget): Promise<SweepResult> {
  // CRI label selectors match exact values, so "any run" lists everything and filters here.
  const filter: ListFilter =
    'runId' in target ? { labelSelector: { [runIdLabel]: target.runId } } : {};
  const ours = <T extends { labels: Readonly<Record<string, string>> }>(items: T[]): T[] =>
    items.filter((item) => item.labels[runIdLabel] !== undefined);
  const runIds = new Set<string>();
  const quietly = async (fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch {
      // What stays is found by the listing below.
    }
  };
  const containers = ours(await driver.listContainers(filter));
  for (const c of containers) {
    runIds.add(c.labels[runIdLabel]!);
    await quietly(() => driver.stopContainer(c.id, 0));
    await quietly(() => driver.removeContainer(c.id));
  }
  const pods = ours(await driver.listPods(filter));
  for (const p of pods) {
    runIds.add(p.labels[runIdLabel]!);
    await quietly(() => driver.stopPod(p.id));
    await quietly(() => driver.removePod(p.id));
  }
  return {
    sweptPods: pods.length,
    sweptContainers: containers.length,
    remainingContainers: ours(await driver.listContainers(filter)).length,
    remainingPods: ours(await driver.listPods(filter)).length,
    runIds: [...runIds].sort(),
  };
}
