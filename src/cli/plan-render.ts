/** Renders a run plan for `churn run --dry-run`: what would run, without touching a runtime. */
import type { PlannedPhase, RunPlan } from '../load/phases.js';
import type { Scenario } from '../scenario/schema.js';
import { formatDurationHuman } from '../scenario/units.js';

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
      .map((s) => (s.kind === 'sleep' ? `sleep ${formatDurationHuman(s.durationMs)}` : s.op))
      .join(' → ');
    lines.push(
      `workload ${w.name}${scenario.workloads.length > 1 ? ` (weight ${w.weight})` : ''}: ` +
        `${w.image} ${[...w.command, ...w.args].join(' ')}; ` +
        `${w.podPerCycle ? 'a pod per cycle' : count(w.pods, 'shared pod')}, ` +
        `${count(w.containersPerPod, 'container')} per pod; ${steps}`,
    );
  }
  lines.push('phases');
  const rows = plan.phases.map((p) => ({
    when: `${formatDurationHuman(p.startMs)}–${formatDurationHuman(p.endMs)}`,
    name: p.name,
    what: describePhase(p) + (p.kind !== 'pause' && !p.record ? ' (warm-up, not recorded)' : ''),
  }));
  const whenWidth = Math.max(...rows.map((r) => r.when.length));
  const nameWidth = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    lines.push(`  ${r.when.padEnd(whenWidth)}  ${r.name.padEnd(nameWidth)}  ${r.what}`);
  }
  lines.push(
    `total    ${formatDurationHuman(plan.totalMs)} + drain up to ${formatDurationHuman(plan.drainTimeoutMs)}` +
      (plan.expectedOpenLoopCycles > 0
        ? `; ≈${count(Math.round(plan.expectedOpenLoopCycles), 'open-loop cycle')}, maxInflight ${plan.maxInflight}`
        : '') +
      (plan.iterations !== undefined ? `; capped at ${count(plan.iterations, 'cycle')}` : '') +
      (plan.iterationsEndMs !== undefined
        ? `, reached at ≈${formatDurationHuman(Math.round(plan.iterationsEndMs / 1000) * 1000)}, before the planned end`
        : ''),
  );
  if (scenario.thresholds.length > 0) {
    lines.push(`thresholds ${scenario.thresholds.map((th) => th.expr.source).join(' · ')}`);
  }
  return `${lines.join('\n')}\n`;
}

function describePhase(p: PlannedPhase): string {
  switch (p.kind) {
    case 'closed':
      return (
        `closed loop, ${p.fromWorkers === p.toWorkers ? count(p.fromWorkers, 'worker') : `${p.fromWorkers} → ${p.toWorkers} workers`}` +
        (p.maxCycles !== undefined ? `, at most ${count(p.maxCycles, 'cycle')}` : '')
      );
    case 'open':
      return (
        `open loop, ${p.fromPerSec === p.toPerSec ? p.fromPerSec : `${p.fromPerSec} → ${p.toPerSec}`} cycles/s ` +
        `(${p.arrivals}), ≈${count(Math.round(p.expectedCycles), 'cycle')}`
      );
    case 'pause':
      return 'pause';
  }
}

/** `1 worker`, `2 workers`. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
