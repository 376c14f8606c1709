// The merged report of a cluster run names each node that gave no report (it is in no part),
// so its HTML and terminal summaries say which node failed and why.
import { describe, expect, it } from 'vitest';
import { noteMissingNodes } from '../../../src/cli/commands/cluster-run.js';
import type { ClusterRunResult, NodeOutcome } from '../../../src/cluster/coordinator.js';
import { defaultOps, syntheticReport } from '../../support/synthetic-report.js';

const report = syntheticReport({ seed: 1, ops: defaultOps(), durationMs: 1000 });

function result(nodes: readonly NodeOutcome[]): ClusterRunResult {
  return {
    runId: 'r1',
    namespace: 'churn',
    startAt: report.run.start,
    nodes,
    state: 'completed',
    startedWallMs: 0,
    allRunningWallMs: 1,
    cleanup: { jobs: 2, configMaps: 1, pods: 2 },
    cleanupErrors: [],
  };
}
const node = (name: string, outcome: Partial<NodeOutcome>): NodeOutcome => ({
  node: name,
  pod: `churn-r1-${name}`,
  exitCode: 0,
  report: undefined,
  error: undefined,
  messages: [],
  ...outcome,
});

describe('noteMissingNodes', () => {
  it('warns of each node without a report, with why', () => {
    const noted = noteMissingNodes(
      report,
      result([
        node('a', { report }),
        node('b', { exitCode: 137, error: 'pod churn-r1-1 was OOMKilled' }),
        node('c', { pod: undefined, exitCode: undefined }),
      ]),
    );
    expect(noted.warnings.slice(report.warnings.length)).toEqual([
      'node b gave no report: pod churn-r1-1 was OOMKilled',
      'node c gave no report: no report',
    ]);
    expect(noted.operations).toBe(report.operations);
  });

  it('leaves the report as it is when every node gave one', () => {
    expect(noteMissingNodes(report, result([node('a', { report })]))).toBe(report);
  });
});
