/**
 * `churn cluster run SCENARIO`: glue between the flags, the coordinator (src/cluster), the
 * merge and the report store. Prints the live cluster-wide status, the merged summary and a
 * per-node table; the exit code follows the merged thresholds and each node's outcome.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { systemClock } from '../../common/clock.js';
import { ChurnError } from '../../common/errors.js';
import {
  runCluster,
  type ClusterProgress,
  type ClusterRunResult,
} from '../../cluster/coordinator.js';
import { connectKube } from '../../cluster/kube-api.js';
import { podScenarioYaml } from '../../cluster/pod-scenario.js';
import { planRun } from '../../load/phases.js';
import { mergeReports } from '../../report/merge.js';
import { formatDuration, formatMs, formatRate } from '../../report/render/format.js';
import { renderTerminalSummary } from '../../report/render/terminal.js';
import type { Report } from '../../report/schema.js';
import { writeReport } from '../../report/store.js';
import { loadScenarioFile } from '../../scenario/load.js';
import type { ScenarioOverrides } from '../../scenario/overrides.js';
import { useColor } from '../color.js';
import { ExitCode, exitCodeForSignal } from '../exit-codes.js';
import type { CliIo, StopSignalName } from '../io.js';
import { churnVersion } from '../version.js';
import { durationFlag, type ClusterArgs } from './cluster-args.js';

/** The image `churn cluster run` deploys unless --image says otherwise. */
export const defaultClusterImage = `ghcr.io/churn/churn:${churnVersion()}`;

/** Where the pods see the node's runtime socket. */
const socketMountPath = '/run/churn/runtime.sock';

/** Off a TTY, a cluster status line at most this often. */
const plainEveryMs = 5000;

/** Runs `churn cluster run`; returns the exit code. */
export async function clusterRun(args: ClusterArgs, io: CliIo): Promise<number> {
  if (args.scenario === undefined) {
    throw new ChurnError(
      'USAGE',
      'churn cluster run needs a scenario file: churn cluster run SCENARIO',
    );
  }
  const overrides: ScenarioOverrides = {
    ...(args.duration !== undefined ? { duration: args.duration } : {}),
    ...(args.concurrency !== undefined ? { concurrency: args.concurrency } : {}),
    ...(args.rate !== undefined ? { rate: args.rate } : {}),
    ...(args.iterations !== undefined ? { iterations: args.iterations } : {}),
    ...(args.label !== undefined ? { labels: args.label } : {}),
    ...(args.allow !== undefined ? { allow: args.allow } : {}),
  };
  const scenario = await loadScenarioFile(args.scenario, overrides, { cwd: io.cwd });
  const text = await readFile(resolve(io.cwd, args.scenario), 'utf8');
  const scenarioYaml = podScenarioYaml(text, scenario, socketMountPath);
  const extraArgs = [
    ...(args.duration !== undefined ? ['--duration', args.duration] : []),
    ...(args.concurrency !== undefined ? ['--concurrency', String(args.concurrency)] : []),
    ...(args.rate !== undefined ? ['--rate', String(args.rate)] : []),
    ...(args.iterations !== undefined ? ['--iterations', String(args.iterations)] : []),
    ...(args.label ?? []).flatMap((l) => ['--label', l]),
    ...(args.allow ?? []).flatMap((mark) => ['--allow', mark]),
  ];
  const startDelayMs = durationFlag(args['start-delay'], '--start-delay');
  const timeoutMs =
    args.timeout !== undefined
      ? durationFlag(args.timeout, '--timeout')
      : planRun(scenario.load).totalMs + startDelayMs + 5 * 60_000;
  const reportDirText = args['report-dir'] ?? scenario.report.dir;
  const reportDir = isAbsolute(reportDirText) ? reportDirText : resolve(io.cwd, reportDirText);

  const api = await connectKube(args.kubeconfig);
  const stop = new AbortController();
  let stoppedBy: StopSignalName | undefined;
  const unsubscribe = io.onStopSignal((signal) => {
    if (stoppedBy !== undefined) return;
    stoppedBy = signal;
    io.stderr.write(
      `\n${signal}: stopping — deleting the pods (churn in each drains and cleans up)\n`,
    );
    stop.abort();
  });
  const status = statusWriter(io);
  let result: ClusterRunResult;
  try {
    io.stderr.write(
      `churn ${churnVersion()} · cluster run of ${scenario.name} · ${api.server} · namespace ${args.namespace}\n`,
    );
    result = await runCluster(
      {
        namespace: args.namespace,
        nodes: args.nodes,
        nodeSelector: args['node-selector'],
        image: args.image,
        imagePullPolicy: args['image-pull-policy'],
        scenarioYaml,
        socketHostPath: args.socket,
        socketMountPath,
        hostNetwork: args['host-network'],
        extraArgs,
        startDelayMs,
        timeoutMs,
        ...(args['run-id'] !== undefined ? { runId: args['run-id'] } : {}),
      },
      {
        api,
        clock: systemClock,
        signal: stop.signal,
        onProgress: status.update,
        log: (line) => {
          status.clear();
          io.stderr.write(`${line}\n`);
        },
      },
    );
  } finally {
    status.clear();
    unsubscribe();
  }
  return finish(result, reportDir, io, stoppedBy);
}

/** Writes the reports, prints the summary and the node table; returns the exit code. */
async function finish(
  result: ClusterRunResult,
  reportDir: string,
  io: CliIo,
  stoppedBy: StopSignalName | undefined,
): Promise<number> {
  let code: number = ExitCode.ok;
  for (const error of result.cleanupErrors) {
    io.stderr.write(`churn: cleanup: ${error}\n`);
    code = ExitCode.broken;
  }
  if (result.state === 'interrupted') return exitCodeForSignal(stoppedBy ?? 'SIGINT');
  if (result.state === 'timed-out') {
    io.stderr.write(
      `churn: cluster run ${result.runId} timed out (--timeout); its objects were removed\n`,
    );
    return ExitCode.broken;
  }
  const parts: { report: Report; source: string }[] = [];
  for (const node of result.nodes) {
    if (node.report === undefined) {
      io.stderr.write(`churn: node ${node.node}: ${node.error ?? 'no report'}\n`);
      code = ExitCode.broken;
      continue;
    }
    const path = await writeReport(reportDir, node.report);
    parts.push({ report: node.report, source: path });
    if (node.exitCode !== 0) {
      for (const m of node.messages) io.stderr.write(`churn: node ${node.node}: ${m}\n`);
      if (code === ExitCode.ok) code = ExitCode.failed;
    }
  }
  if (parts.length === 0) return ExitCode.broken;
  const merged = noteMissingNodes(
    parts.length === 1
      ? parts[0]!.report
      : mergeReports(parts, { runId: `cluster-${result.runId}` }),
    result,
  );
  const path = await writeReport(reportDir, merged);
  io.stdout.write(renderTerminalSummary(merged, { color: useColor(io, io.stdout) }));
  io.stdout.write(`\n${nodeTable(result)}`);
  io.stdout.write(`${timingLine(result)}\n`);
  io.stdout.write(
    `\nmerged report (${parts.length} node${parts.length === 1 ? '' : 's'}): ${path}\n`,
  );
  const failed = merged.thresholds.filter((t) => !t.ok);
  if (failed.length > 0) {
    io.stderr.write(
      `churn: ${failed.length} merged threshold(s) failed: ${failed.map((t) => t.source).join('; ')}\n`,
    );
    if (code === ExitCode.ok) code = ExitCode.failed;
  }
  return code;
}

/**
 * `report` (the merged one) with a warning for each node that gave no report, so the merged
 * report, whose parts are the nodes that did, still says which node failed and why.
 */
export function noteMissingNodes(report: Report, result: ClusterRunResult): Report {
  const missing = result.nodes
    .filter((n) => n.report === undefined)
    .map((n) => `node ${n.node} gave no report: ${n.error ?? 'no report'}`);
  return missing.length === 0 ? report : { ...report, warnings: [...report.warnings, ...missing] };
}

/** One line per node: cycles, errors, p99 and how far its phases began from the start instant. */
export function nodeTable(result: ClusterRunResult): string {
  const startAtMs = Date.parse(result.startAt);
  const rows = result.nodes.map((n) => {
    const r = n.report;
    if (r === undefined) return [n.node, '–', '–', '–', '–', n.error ?? 'no report'];
    const offset =
      r.run.phasesStart === null ? '–' : `${Date.parse(r.run.phasesStart) - startAtMs} ms`;
    return [
      n.node,
      String(r.cycles.succeeded),
      String(r.cycles.failed),
      formatMs(r.operations.cycle?.latencyMs?.p99),
      offset,
      `exit ${n.exitCode ?? '?'}`,
    ];
  });
  const header = ['node', 'cycles ok', 'failed', 'p99(cycle)', 'start vs instant', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

/** How long the start took: pods Running, and the first cycle, from the command's start. */
function timingLine(result: ClusterRunResult): string {
  const starts = result.nodes
    .map((n) => n.report?.run.phasesStart)
    .filter((s): s is string => s !== undefined && s !== null)
    .map((s) => Date.parse(s));
  const running =
    result.allRunningWallMs === undefined
      ? 'never all Running'
      : `all pods Running ${formatDuration(result.allRunningWallMs - result.startedWallMs)} after the start of churn cluster run`;
  const first =
    starts.length === 0
      ? ''
      : `; first cycle on every node ${formatDuration(Math.max(...starts) - result.startedWallMs)} after it (start instant ${result.startAt}, spread ${Math.max(...starts) - Math.min(...starts)} ms)`;
  return `${running}${first}`;
}

/** The live status: in place on a TTY, a line every 5 s otherwise. */
function statusWriter(io: CliIo): { update: (p: ClusterProgress) => void; clear: () => void } {
  let lastPlain = Number.NEGATIVE_INFINITY;
  let pending = false;
  return {
    update(p) {
      const pods = Object.entries(p.phases)
        .map(([phase, n]) => `${n} ${phase}`)
        .join(', ');
      const when =
        p.untilStartMs > 0
          ? `start in ${formatDuration(p.untilStartMs)}`
          : `${formatDuration(p.elapsedMs)}/${formatDuration(p.totalMs)}`;
      const text = `cluster ${p.runId} · ${p.nodes} node(s): ${pods || 'no pod yet'} · ${when} · ${formatRate(p.cyclesPerSec)} cycles/s · cycles ${p.cyclesSucceeded} ok ${p.errors} err`;
      if (io.stderr.isTTY) {
        io.stderr.write(`\r\x1b[2K${text}`);
        pending = true;
      } else if (Date.now() - lastPlain >= plainEveryMs) {
        lastPlain = Date.now();
        io.stderr.write(`${text}\n`);
      }
    },
    clear() {
      if (pending) io.stderr.write('\r\x1b[2K');
      pending = false;
    },
  };
}
