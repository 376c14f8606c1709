/**
 * `churn bench [scenario]`: a capacity sweep. Runs the scenario's cycle closed-loop at each
 * concurrency level for a fixed time and prints cycles/s and cycle latency per level, so the
 * knee (where more workers stop buying throughput) is visible. Each level is a separate short
 * run with its own cleanup; nothing is written to the report store.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { systemClock } from '../../common/clock.js';
import { ChurnError } from '../../common/errors.js';
import { randomHexId } from '../../common/random-id.js';
import { createDriver } from '../../drivers/registry.js';
import { runScenario } from '../../load/runner.js';
import { Recorder } from '../../metrics/recorder.js';
import { defaultScenario } from '../../scenario/default-scenario.js';
import { loadScenarioFile } from '../../scenario/load.js';
import {
  overrideFlags,
  overridesFromArgs,
  type ScenarioOverrides,
} from '../../scenario/overrides.js';
import type { Scenario } from '../../scenario/schema.js';
import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import type { CliIo } from '../io.js';

interface BenchArgs {
  scenario?: string;
  levels: string;
  'step-duration': string;
  json: boolean;
  output?: string;
  [flag: string]: unknown;
}

/** The result of one concurrency level. */
export interface BenchLevel {
  readonly concurrency: number;
  readonly cycles: number;
  readonly errors: number;
  readonly cyclesPerSec: number;
  readonly cycleP50Ms: number | null;
  readonly cycleP99Ms: number | null;
}

/** The `bench` command. */
export const benchCommand = defineCommand<BenchArgs>({
  command: 'bench [scenario]',
  describe: "Sweep concurrency levels and show the runtime's cycles/s and latency at each",
  builder(yargs: Argv) {
    let y = yargs.positional('scenario', {
      type: 'string',
      describe:
        'scenario whose workload is run (its phases are replaced); the smoke scenario by default',
    });
    for (const key of ['driver', 'endpoint', 'runtimeHandler', 'executor', 'image'] as const) {
      const f = overrideFlags[key];
      y = y.option(f.flag.slice(2), { type: f.type, describe: f.describe, group: 'Target:' });
    }
    return y
      .option('levels', {
        type: 'string',
        default: '1,2,4,8',
        describe: 'comma-separated concurrency levels',
      })
      .option('step-duration', {
        type: 'string',
        default: '10s',
        describe: 'how long each level runs',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print the levels as JSON' })
      .option('output', {
        alias: 'o',
        type: 'string',
        describe: 'also write the levels as JSON to this file',
      })
      .example('$0 bench', 'the built-in core at 1, 2, 4 and 8 workers, 10 s each')
      .example(
        '$0 bench --driver cri --endpoint unix:///run/containerd/containerd.sock --levels 1,2,4 --step-duration 30s',
        'containerd',
      );
  },
  async run(args, io) {
    const levels = parseLevels(args.levels);
    const base = overridesFromArgs(args);
    const results: BenchLevel[] = [];
    if (!args.json)
      io.stdout.write('concurrency   cycles  errors  cycles/s   p50(cycle)   p99(cycle)\n');
    for (const concurrency of levels) {
      const overrides: ScenarioOverrides = {
        ...base,
        concurrency,
        duration: args['step-duration'],
      };
      const scenario =
        args.scenario === undefined
          ? await defaultScenario(overrides)
          : await loadScenarioFile(args.scenario, overrides, { cwd: io.cwd });
      const level = await runLevel(scenario, concurrency, io);
      results.push(level);
      if (!args.json) io.stdout.write(`${formatLevel(level)}\n`);
    }
    const json = `${JSON.stringify({ levels: results }, null, 2)}\n`;
    if (args.json) io.stdout.write(json);
    if (args.output !== undefined) await writeFile(resolve(io.cwd, args.output), json);
    if (!args.json) {
      const best = results.reduce((a, b) => (b.cyclesPerSec > a.cyclesPerSec ? b : a));
      io.stdout.write(
        `\nmost cycles/s at concurrency ${best.concurrency}: ${best.cyclesPerSec.toFixed(1)}\n`,
      );
    }
    return results.some((r) => r.cycles === 0) ? ExitCode.failed : ExitCode.ok;
  },
});

function parseLevels(text: string): number[] {
  const levels = text.split(',').map((part) => Number(part.trim()));
  if (levels.length === 0 || levels.some((n) => !Number.isInteger(n) || n < 1 || n > 100_000)) {
    throw new ChurnError(
      'USAGE',
      `--levels: "${text}" is not a list of whole numbers ≥ 1, e.g. 1,2,4,8`,
    );
  }
  return levels;
}

async function runLevel(scenario: Scenario, concurrency: number, io: CliIo): Promise<BenchLevel> {
  const driver = await createDriver(scenario.target, {
    faults: scenario.faults,
    seed: scenario.seed,
  });
  const recorder = new Recorder({ clock: systemClock, intervalMs: scenario.report.intervalMs });
  const stop = new AbortController();
  const unsubscribe = io.onStopSignal(() => stop.abort());
  try {
    const result = await runScenario({
      scenario,
      driver,
      recorder,
      clock: systemClock,
      runId: randomHexId(6),
      signal: stop.signal,
    });
    if (result.state === 'broken') throw result.error;
    if (result.state === 'interrupted') throw new ChurnError('CANCELLED', 'bench stopped');
    const cycle = result.snapshot.overall.cycle;
    const recordedSec = result.snapshot.recordedMs / 1000;
    return {
      concurrency,
      cycles: cycle?.count ?? 0,
      errors: cycle?.errors ?? 0,
      cyclesPerSec: recordedSec > 0 ? (cycle?.count ?? 0) / recordedSec : 0,
      cycleP50Ms: cycle?.latencyUs === undefined ? null : cycle.latencyUs.p50 / 1000,
      cycleP99Ms: cycle?.latencyUs === undefined ? null : cycle.latencyUs.p99 / 1000,
    };
  } finally {
    unsubscribe();
    await driver.close();
    recorder.release();
  }
}

function formatLevel(level: BenchLevel): string {
  const ms = (v: number | null): string => (v === null ? '–' : `${v.toFixed(2)}ms`);
  return (
    `${String(level.concurrency).padStart(11)} ${String(level.cycles).padStart(8)} ${String(level.errors).padStart(7)}` +
    ` ${level.cyclesPerSec.toFixed(1).padStart(9)} ${ms(level.cycleP50Ms).padStart(12)} ${ms(level.cycleP99Ms).padStart(12)}`
  );
}
