/**
 * The summary printed at the end of `churn run` and by `churn report`: a table per operation
 * (count, errors, ops/s, p50, p90, p99, p99.9, max) in step order with `cycle` last, errors by
 * code, scheduling figures for open loop, thresholds with ✓/✗ and their actual values, what
 * the leak audit found left and how the runtime daemon grew, and churn's own health: its marks (harness-bound, overloaded) loud under the title, stalls and a
 * line of harness and host figures at the end. Pure: report in, string out; colour only when
 * asked.
 */
import pc from 'picocolors';
import type { OpName } from '../../common/operations.js';
import { checkpointNotice, isCheckpoint } from '../checkpoint.js';
import type { Report, ReportHarness, ReportOperation } from '../schema.js';
import { harnessWarnings, markMessages } from '../verdicts.js';
import { leakDetails, leakedTotal, leakLine, targetGrowthLine } from './leaks.js';
import {
  formatDuration,
  formatMs,
  formatPercent,
  formatRate,
  formatThresholdActual,
} from './format.js';

/** Options of {@link renderTerminalSummary}. */
export interface TerminalRenderOptions {
  /** ANSI colours (on a TTY). Default false. */
  readonly color?: boolean;
}

const headers = ['operation', 'count', 'errors', 'ops/s', 'p50', 'p90', 'p99', 'p99.9', 'max'];

/** Renders the end-of-run summary of `report`. */
export function renderTerminalSummary(report: Report, options: TerminalRenderOptions = {}): string {
  const c = pc.createColors(options.color ?? false);
  const lines: string[] = [];
  const { run, environment: env } = report;
  const runtime =
    env.runtime.name === null
      ? 'runtime unknown'
      : `${env.runtime.name} ${env.runtime.version ?? ''}`.trim();
  lines.push(
    `${c.bold(`churn · ${run.scenario}`)} · run ${run.id} · ${stateText(report, c)} in ${formatDuration(run.durationMs)}` +
      ` (recorded ${formatDuration(run.recordedMs)})`,
  );
  lines.push(
    c.dim(
      `${runtime} · driver ${env.driver}${env.runtime.handler ? ` · handler ${env.runtime.handler}` : ''}`,
    ),
  );
  if (run.error !== null) lines.push(c.red(`error ${run.error.code}: ${run.error.message}`));
  if (isCheckpoint(report)) lines.push(c.bold(c.yellow(`⚠ ${checkpointNotice(report)}`)));
  for (const { text } of markMessages(report)) lines.push(c.bold(c.red(`⚠ ${text}`)));
  for (const text of harnessWarnings(report)) lines.push(c.yellow(`⚠ ${text}`));
  lines.push('');

  const ops = Object.entries(report.operations) as [OpName, ReportOperation][];
  if (ops.length === 0) {
    lines.push('no operation was recorded');
  } else {
    const rows = ops.map(([op, o]) => [
      op,
      String(o.count),
      String(o.errors),
      formatRate(o.throughputPerSec),
      formatMs(o.latencyMs?.p50),
      formatMs(o.latencyMs?.p90),
      formatMs(o.latencyMs?.p99),
      formatMs(o.latencyMs?.p999),
      formatMs(o.latencyMs?.max),
    ]);
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: readonly string[]): string =>
      cells
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  ');
    lines.push(c.dim(line(headers)));
    for (const [k, row] of rows.entries()) {
      const text = line(row);
      const [op, o] = ops[k]!;
      lines.push(op === 'cycle' ? c.bold(text) : o.errors > 0 ? colorErrors(row, widths, c) : text);
    }
  }

  const codes = ops.flatMap(([op, o]) =>
    op === 'cycle' ? [] : Object.entries(o.errorsByCode).map(([code, n]) => [op, code, String(n)]),
  );
  if (codes.length > 0) {
    lines.push('', c.bold('errors by code'));
    const w = [0, 1, 2].map((i) => Math.max(...codes.map((r) => r[i]!.length)));
    for (const [op, code, n] of codes)
      lines.push(`  ${op!.padEnd(w[0]!)}  ${c.red(code!.padEnd(w[1]!))}  ${n!.padStart(w[2]!)}`);
  }

  const s = report.scheduling;
  if (s.lagMs !== null || s.dropped > 0) {
    lines.push('', c.bold('scheduling (open loop)'));
    lines.push(`  dropped ${s.dropped > 0 ? c.red(String(s.dropped)) : '0'}`);
    if (s.lagMs !== null) {
      lines.push(
        `  scheduler lag  p50 ${formatMs(s.lagMs.p50)}  p99 ${formatMs(s.lagMs.p99)}  max ${formatMs(s.lagMs.max)}`,
      );
    }
    if (s.serviceTimeMs !== null) {
      lines.push(
        `  service time   p50 ${formatMs(s.serviceTimeMs.p50)}  p99 ${formatMs(s.serviceTimeMs.p99)}  max ${formatMs(s.serviceTimeMs.max)}`,
      );
    }
  }

  if (report.thresholds.length > 0) {
    lines.push('', c.bold('thresholds'));
    const w = Math.max(...report.thresholds.map((t) => t.source.length));
    for (const t of report.thresholds) {
      const mark = t.ok ? c.green('✓') : c.red('✗');
      lines.push(`  ${mark} ${t.source.padEnd(w)}  actual ${formatThresholdActual(t)}`);
    }
  }

  const cl = report.cleanup;
  if (cl.remainingPods + cl.remainingContainers > 0) {
    lines.push(
      '',
      c.red(`left behind: ${cl.remainingPods} pods, ${cl.remainingContainers} containers`),
    );
  }
  if (report.leaks !== null) {
    const leaks = report.leaks;
    const total = leakedTotal(leaks);
    lines.push('', total === 0 ? leakLine(leaks) : c.red(leakLine(leaks)));
    const growth = targetGrowthLine(leaks);
    if (growth !== undefined) lines.push(c.dim(growth));
    for (const detail of leakDetails(leaks, 5)) lines.push(`  ${detail}`);
  }
  if (report.harness !== null) lines.push('', c.dim(harnessLine(report.harness)));
  for (const warning of report.warnings) lines.push(c.yellow(`warning: ${warning}`));
  return `${lines.join('\n')}\n`;
}

/** churn's and the host's figures over the run, on one line. */
function harnessLine(h: ReportHarness): string {
  const parts = [
    `loop lag p99 ${formatMs(h.lagP99Ms)} max ${formatMs(h.lagMaxMs)} (bound ${formatMs(h.lagBoundMs)})`,
  ];
  if (h.utilization !== null) parts.push(`loop busy ${formatPercent(h.utilization)}`);
  if (h.cpuWaitPct !== null) parts.push(`waited for a CPU ${formatPercent(h.cpuWaitPct / 100)}`);
  parts.push(`CPU ${h.cpuSeconds.toFixed(1)}s`);
  const host: string[] = [];
  const k = h.contention;
  if (k.load1Mean !== null) host.push(`load ${k.load1Mean.toFixed(2)}`);
  if (k.stealPct !== null) host.push(`steal ${formatPercent(k.stealPct / 100)}`);
  if (k.otherCpuPct !== null) host.push(`other processes ${formatPercent(k.otherCpuPct / 100)}`);
  return `harness: ${parts.join(' · ')}${host.length > 0 ? ` · host: ${host.join(', ')}` : ''}`;
}

function stateText(report: Report, c: ReturnType<typeof pc.createColors>): string {
  const { run } = report;
  switch (run.exitReason) {
    case 'completed': {
      const text = run.endedBy === 'iterations' ? 'completed (iterations reached)' : 'completed';
      return run.marks.length === 0 ? text : `${text}, ${c.red(`marked ${run.marks.join(', ')}`)}`;
    }
    case 'interrupted':
      return c.yellow('interrupted (partial)');
    case 'aborted':
      return c.red(`aborted by ${run.abortedBy ?? 'a threshold'} (partial)`);
    case 'broken':
      return c.red('broken (partial)');
    case 'running':
      return c.yellow('checkpoint (partial)');
  }
}

/** The row with its errors cell in red (padding kept outside the colour codes). */
function colorErrors(
  row: readonly string[],
  widths: readonly number[],
  c: ReturnType<typeof pc.createColors>,
): string {
  return row
    .map((cell, i) => {
      const padded = i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!);
      return i === 2 ? c.red(padded) : padded;
    })
    .join('  ');
}
