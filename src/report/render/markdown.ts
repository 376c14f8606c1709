/**
 * A report as Markdown (a pull-request comment, a CI summary): run facts, the operations table,
 * errors by code, scheduling, thresholds, leaks, environment. Pure: report in, string out.
 */
import type { OpName } from '../../common/operations.js';
import { checkpointNotice, isCheckpoint } from '../checkpoint.js';
import { judgeParts } from '../part-outliers.js';
import type { Report, ReportOperation } from '../schema.js';
import {
  formatDuration,
  formatMs,
  formatRate,
  formatThresholdActual,
  formatTime,
} from './format.js';
import { leakDetails, leakLine, targetGrowthLine } from './leaks.js';

/** Renders `report` as GitHub-flavoured Markdown. */
export function renderReportMarkdown(report: Report): string {
  const { run, environment: env } = report;
  const out: string[] = [];
  out.push(`## churn report: \`${run.scenario}\``, '');
  out.push(
    `Run \`${run.id}\` · ${stateText(report)} · started ${formatTime(run.start)} · ${formatDuration(run.durationMs)} (recorded ${formatDuration(run.recordedMs)})`,
  );
  out.push('');
  out.push(
    `Runtime: ${env.runtime.name ?? 'unknown'} ${env.runtime.version ?? ''}`.trimEnd() +
      ` · driver ${env.driver}${env.runtime.handler ? ` · handler ${env.runtime.handler}` : ''}`,
  );
  if (run.error !== null)
    out.push('', `**Error** \`${run.error.code}\`: ${escape(run.error.message)}`);
  if (isCheckpoint(report)) out.push('', `> ⚠ ${escape(checkpointNotice(report))}`);
  out.push('');

  const ops = Object.entries(report.operations) as [OpName, ReportOperation][];
  out.push('### Operations', '');
  if (ops.length === 0) {
    out.push('No operation was recorded.');
  } else {
    out.push('| operation | count | errors | ops/s | p50 | p90 | p99 | p99.9 | max |');
    out.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|');
    for (const [op, o] of ops) {
      const name = op === 'cycle' ? '**cycle**' : op;
      out.push(
        `| ${name} | ${o.count} | ${o.errors} | ${formatRate(o.throughputPerSec)} | ${formatMs(o.latencyMs?.p50)} | ${formatMs(o.latencyMs?.p90)} | ${formatMs(o.latencyMs?.p99)} | ${formatMs(o.latencyMs?.p999)} | ${formatMs(o.latencyMs?.max)} |`,
      );
    }
  }

  const codes = ops.flatMap(([op, o]) =>
    op === 'cycle' ? [] : Object.entries(o.errorsByCode).map(([code, n]) => ({ op, code, n })),
  );
  if (codes.length > 0) {
    out.push('', '### Errors by code', '', '| operation | code | count |', '|---|---|--:|');
    for (const { op, code, n } of codes) out.push(`| ${op} | \`${code}\` | ${n} |`);
  }

  const s = report.scheduling;
  if (s.lagMs !== null || s.dropped > 0) {
    out.push('', '### Scheduling (open loop)', '');
    out.push(`- dropped arrivals: ${s.dropped}`);
    if (s.lagMs !== null) {
      out.push(
        `- scheduler lag: p50 ${formatMs(s.lagMs.p50)}, p99 ${formatMs(s.lagMs.p99)}, max ${formatMs(s.lagMs.max)}`,
      );
    }
    if (s.serviceTimeMs !== null) {
      out.push(
        `- service time: p50 ${formatMs(s.serviceTimeMs.p50)}, p99 ${formatMs(s.serviceTimeMs.p99)}, max ${formatMs(s.serviceTimeMs.max)}`,
      );
    }
  }

  if (report.thresholds.length > 0) {
    out.push('', '### Thresholds', '', '| | threshold | actual |', '|---|---|--:|');
    for (const t of report.thresholds) {
      out.push(`| ${t.ok ? '✅' : '❌'} | \`${t.source}\` | ${formatThresholdActual(t)} |`);
    }
  }

  if (report.leaks !== null) {
    const leaks = report.leaks;
    out.push('', '### Leaks', '', escape(leakLine(leaks)));
    const growth = targetGrowthLine(leaks);
    if (growth !== undefined) out.push('', escape(growth));
    const details = leakDetails(leaks);
    if (details.length > 0) out.push('', ...details.map((d) => `- ${escape(d)}`));
  }

  if (report.mergedFrom !== null) {
    out.push('', `### Merged from ${report.mergedFrom.length} runs`, '');
    for (const { part: p, name, marks } of judgeParts(report.mergedFrom)) {
      const node = name === p.id ? '' : `node ${escape(name)} · `;
      const cycles =
        p.cycles === null
          ? ''
          : ` · cycles ${p.cycles.succeeded} ok, ${p.cycles.failed} failed, p99 ${formatMs(p.cycles.p99Ms)}`;
      const marked = marks
        .map((m) => `${m.kind === 'failed' ? '✗ failed' : '⚠ stands out'}: ${m.text}`)
        .join('; ');
      out.push(
        `- \`${p.id}\` ${node}${formatTime(p.start)} (${p.kernel})${cycles}${marked === '' ? '' : ` · **${escape(marked)}**`}`,
      );
    }
  }

  out.push('', '### Environment', '', '| | |', '|---|---|');
  const labels = Object.entries(env.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  for (const [k, v] of [
    [
      'churn',
      `${env.churnVersion}${env.gitCommit === null ? '' : ` (${env.gitCommit.slice(0, 12)})`}`,
    ],
    ['Node.js', env.node],
    ['OS / kernel', `${env.os} ${env.kernel} (${env.arch})`],
    ['CPU', `${env.cpuModel} × ${env.cpuCount}`],
    ['cgroup', env.cgroupVersion === null ? 'unknown' : `v${env.cgroupVersion}`],
    [
      'runtime',
      [env.runtime.name, env.runtime.version, env.runtime.apiVersion].filter(Boolean).join(' ') ||
        'unknown',
    ],
    ['labels', labels === '' ? '-' : labels],
  ] as const) {
    out.push(`| ${k} | ${escape(v)} |`);
  }
  const cl = report.cleanup;
  if (cl.remainingPods + cl.remainingContainers > 0) {
    out.push('', `**Left behind:** ${cl.remainingPods} pods, ${cl.remainingContainers} containers`);
  }
  if (report.warnings.length > 0) {
    out.push('', '### Warnings', '');
    for (const w of report.warnings) out.push(`- ${escape(w)}`);
  }
  return `${out.join('\n')}\n`;
}

function stateText(report: Report): string {
  const { run } = report;
  switch (run.exitReason) {
    case 'completed':
      return run.endedBy === 'iterations' ? 'completed (iterations reached)' : 'completed';
    case 'interrupted':
      return '**interrupted** (partial)';
    case 'aborted':
      return `**aborted** by \`${run.abortedBy ?? 'a threshold'}\` (partial)`;
    case 'broken':
      return '**broken** (partial)';
    case 'running':
      return '**checkpoint** (partial)';
  }
}

/** Escapes what would break a table cell or start Markdown markup. */
export function escape(text: string): string {
  return text.replace(/[|\\`*_<>]/g, (ch) => `\\${ch}`);
}
