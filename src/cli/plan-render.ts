/** Renders a run plan for `churn run --dry-run`: what would run, without touching a runtime. */
import type { PlannedPhase, RunPlan } from '../load/phases.js';
import type { Scenario } from '../scenario/schema.js';
import { formatDurationHuman } from '../scenario/units.js';

/**
 * The plan as text: a header that says what will run (from the plan, so after the flags that
 * override the file), target, workloads, then one line per phase and the totals.
 * `loadFlags`: the flags that changed the file's load (`--rate`, `--duration`…); the file's
 * description, written for the file's load, is then labelled as the file's.
 */
export function renderPlan(
  scenario: Scenario,
  plan: RunPlan,
  loadFlags: readonly string[] = [],
): string {
  const lines: string[] = [];
  const t = scenario.target;
  lines.push(`scenario ${scenario.name}: ${summarizePlan(plan)}`);
  if (scenario.description) {
    lines.push(
      loadFlags.length === 0
        ? `about    ${scenario.description}`
        : `about    ${scenario.description} (the file's description, before ${loadFlags.join(' ')})`,
    );
  }
  lines.push(
    `target   ${t.driver}${t.driver === 'cri' ? ` ${t.endpoint}` : t.driver === 'containerd' ? ` ${t.address} namespace ${t.namespace}` : ` (executor ${t.executor}${t.taskUser === undefined ? '' : `, task user ${t.taskUser}`})`}` +
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
  if (scenario.leaks.checkIntervalMs > 0) {
    lines.push(
      `leaks    audited every ${formatDurationHuman(scenario.leaks.checkIntervalMs)} and after the cleanup`,
    );
  }
  if (scenario.thresholds.length > 0) {
    lines.push(`thresholds ${scenario.thresholds.map((th) => th.expr.source).join(' · ')}`);
  }
  if (scenario.report.checkpointIntervalMs > 0) {
    lines.push(
      `checkpoint every ${formatDurationHuman(scenario.report.checkpointIntervalMs)}: the report so far, at the report's path, until the final report replaces it`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The plan in one line: `open loop, 2000 arrivals/s for 10s, ~20,000 cycles, maxInflight 256`,
 * `closed loop, 2 → 8 workers for 5m`, or for several phases
 * `3 phases over 1m30s: closed loop (4 workers), then open loop (10 → 40 arrivals/s), ~1,500 cycles, maxInflight 256`.
 */
export function summarizePlan(plan: RunPlan): string {
  const working = plan.phases.filter((p) => p.kind !== 'pause');
  const parts: string[] = [];
  const single = plan.phases.length === 1 && working.length === 1;
  if (working.length === 0) {
    parts.push(`pause for ${formatDurationHuman(plan.totalMs)}`);
  } else if (single) {
    parts.push(`${loadOf(working)} for ${formatDurationHuman(plan.totalMs)}`);
  } else {
    // Consecutive phases of one kind read as one stretch: `closed loop (1 → 8 workers)`.
    const stretches: PlannedPhase[][] = [];
    for (const p of working) {
      const last = stretches.at(-1);
      if (last !== undefined && last[0]!.kind === p.kind) last.push(p);
      else stretches.push([p]);
    }
    parts.push(
      `${plan.phases.length} phases over ${formatDurationHuman(plan.totalMs)}: ` +
        stretches
          .map((st) => loadOf(st).replace(/^(closed loop|open loop), (.*)$/, '$1 ($2)'))
          .join(', then '),
    );
  }
  const warmUpMs = working.filter((p) => !p.record).reduce((sum, p) => sum + p.durationMs, 0);
  if (warmUpMs > 0) parts.push(`the first ${formatDurationHuman(warmUpMs)} warm-up`);
  if (plan.expectedOpenLoopCycles > 0) {
    parts.push(
      `~${thousands(Math.round(plan.expectedOpenLoopCycles))} cycles`,
      `maxInflight ${plan.maxInflight}`,
    );
  }
  if (plan.iterations !== undefined) {
    parts.push(`capped at ${thousands(plan.iterations)} cycle${plan.iterations === 1 ? '' : 's'}`);
  }
  return parts.join(', ');
}

/** `closed loop, 2 workers`, `closed loop, 1 → 8 workers`, `open loop, 10 → 40 arrivals/s`. */
function loadOf(phases: readonly PlannedPhase[]): string {
  const first = phases[0]!;
  const levels = phases.flatMap((p) => {
    switch (p.kind) {
      case 'closed':
        return [p.fromWorkers, p.toWorkers];
      case 'open':
        return [p.fromPerSec, p.toPerSec];
      case 'pause':
        return [];
    }
  });
  const lo = Math.min(...levels);
  const hi = Math.max(...levels);
  // A ramp up reads `from → to`; levels that go up and down read as their range, `lo–hi`.
  const ordered = levels.every((v, i) => i === 0 || v >= levels[i - 1]!);
  const descending = levels.every((v, i) => i === 0 || v <= levels[i - 1]!);
  const range =
    lo === hi ? `${lo}` : ordered ? `${lo} → ${hi}` : descending ? `${hi} → ${lo}` : `${lo}–${hi}`;
  if (first.kind === 'closed') return `closed loop, ${range} worker${hi === 1 ? '' : 's'}`;
  return `open loop, ${range} arrivals/s`;
}

/** 20000 → `20,000`. */
function thousands(n: number): string {
  return n.toLocaleString('en-US');
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
