/** Renders a run plan for `churn run --dry-run`: what would run, without touching a runtime. */
import type { RunPlan } from '../load/phases.js';
import type { Scenario } from '../scenario/schema.js';
import { formatDurationMs } from '../scenario/units.js';

/** The plan as text: target, workloads, then one line per phase and the totals. */
export function renderPlan(scenario: Scenario, plan: RunPlan): string {
  const lines: string[] = [];
  const t = scenario.target;
  lines.push(
    `scenario ${scenario.name}${scenario.description ? ` — ${scenario.description}` : ''}`,
  );
  lines.push(
    `target   ${t.driver}${t.driver === 'cri' ? ` ${t.endpoint}` : ` (executor ${t.executor})`}` +
      (t.runtimeHandler ? ` handler ${t.runtimeHandler}` : ''),
  );
  for (const w of scenario.workloads) {
    const steps = w.steps
      .map((s) => (s.kind === 'sleep' ? `sleep ${formatDurationMs(s.durationMs)}` : s.op))
      .join(' → ');
    lines.push(
      `workload ${w.name}${scenario.workloads.length > 1 ? ` (weight ${w.weight})` : ''}: ` +
        `${w.image} ${[...w.command, ...w.args].join(' ')}; ` +
        `${w.podPerCycle ? 'a pod per cycle' : `${w.pods} shared pod(s)`}, ` +
        `${w.containersPerPod} container(s) per pod; ${steps}`,
    );
  }
  lines.push('phases');
  for (const p of plan.phases) {
    const when = `${formatDurationMs(p.startMs)}–${formatDurationMs(p.endMs)}`.padEnd(14);
    const name = p.name.padEnd(14);
    let what: string;
    switch (p.kind) {
      case 'closed':
        what =
          `closed loop, ${p.fromWorkers === p.toWorkers ? p.fromWorkers : `${p.fromWorkers} → ${p.toWorkers}`} workers` +
          (p.maxCycles !== undefined ? `, at most ${p.maxCycles} cycles` : '');
        break;
      case 'open':
        what =
          `open loop, ${p.fromPerSec === p.toPerSec ? p.fromPerSec : `${p.fromPerSec} → ${p.toPerSec}`} cycles/s ` +
          `(${p.arrivals}), ≈${Math.round(p.expectedCycles)} cycles`;
        break;
      case 'pause':
        what = 'pause';
        break;
    }
    const warm = p.kind !== 'pause' && !p.record ? ' (warm-up, not recorded)' : '';
    lines.push(`  ${when}${name}${what}${warm}`);
  }
  lines.push(
    `total    ${formatDurationMs(plan.totalMs)} + drain up to ${formatDurationMs(plan.drainTimeoutMs)}` +
      (plan.expectedOpenLoopCycles > 0
        ? `; ≈${Math.round(plan.expectedOpenLoopCycles)} open-loop cycles, maxInflight ${plan.maxInflight}`
        : '') +
      (plan.iterations !== undefined ? `; capped at ${plan.iterations} cycles` : ''),
  );
  if (scenario.thresholds.length > 0) {
    lines.push(`thresholds ${scenario.thresholds.map((th) => th.expr.source).join(' · ')}`);
  }
  return `${lines.join('\n')}\n`;
}
