// `--dry-run`'s header says what will run: the plan after the flags, not the file's prose.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import { summarizePlan } from '../../../src/cli/plan-render.js';
import { planRun } from '../../../src/load/phases.js';
import { scenarioSchema } from '../../../src/scenario/schema.js';
import { bufferIo } from '../../support/cli-io.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

function plan(phases: unknown[], extra: Record<string, unknown> = {}) {
  return planRun(scenarioSchema.parse({ load: { phases, ...extra } }).load);
}

describe('summarizePlan', () => {
  const rows: [string, ReturnType<typeof plan>, string][] = [
    [
      'open loop at one rate',
      plan([{ duration: '10s', arrivalRate: 2000 }]),
      'open loop, 2000 arrivals/s for 10s, ~20,000 cycles, maxInflight 256',
    ],
    [
      'an open-loop ramp',
      plan([{ duration: '1m', arrivalRate: 10, rampTo: 40 }], { maxInflight: 64 }),
      'open loop, 10 → 40 arrivals/s for 1m, ~1,500 cycles, maxInflight 64',
    ],
    ['closed loop', plan([{ duration: '30s', concurrency: 1 }]), 'closed loop, 1 worker for 30s'],
    [
      'a closed-loop ramp',
      plan([{ duration: '5m', concurrency: 2, rampTo: 8 }]),
      'closed loop, 2 → 8 workers for 5m',
    ],
    [
      'closed then open, with a warm-up and a pause',
      plan(
        [
          { duration: '10s', concurrency: 2, record: false },
          { duration: '20s', concurrency: 4 },
          { pause: '5s' },
          { duration: '60s', arrivalRate: 10, rampTo: 40 },
        ],
        { maxInflight: 32 },
      ),
      '4 phases over 1m35s: closed loop (2 → 4 workers), then open loop (10 → 40 arrivals/s), the first 10s warm-up, ~1,500 cycles, maxInflight 32',
    ],
    [
      'levels that go up and down read as a range',
      plan([
        { duration: '10s', concurrency: 4 },
        { duration: '10s', concurrency: 1 },
        { duration: '10s', concurrency: 8 },
      ]),
      '3 phases over 30s: closed loop (1–8 workers)',
    ],
    [
      'an iterations cap',
      plan([{ duration: '1h', concurrency: 4 }], { iterations: 100000 }),
      'closed loop, 4 workers for 1h, capped at 100,000 cycles',
    ],
  ];
  it.each(rows)('%s', (_name, p, expected) => {
    expect(summarizePlan(p)).toBe(expected);
  });
});

describe('churn run --dry-run header', () => {
  async function churn(...args: string[]) {
    const io = bufferIo({ cwd: root });
    const code = await runCli(args, io.io);
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  }

  it('describes the plan after --rate and --duration; the file description is labelled as such', async () => {
    const { code, stdout } = await churn(
      'run',
      'scenarios/smoke.yaml',
      '--rate',
      '2000',
      '--duration',
      '10s',
      '--dry-run',
    );
    expect(code).toBe(0);
    const [first, second] = stdout.split('\n');
    expect(first).toBe(
      'scenario smoke: open loop, 2000 arrivals/s for 10s, ~20,000 cycles, maxInflight 256',
    );
    expect(second).toMatch(
      /^about {4}.*2 workers for 10 s \(the file's description, before --rate --duration\)$/,
    );
  });

  it('without load flags, the description is the secondary line as written', async () => {
    const { stdout } = await churn('run', 'scenarios/smoke.yaml', '--dry-run');
    const [first, second] = stdout.split('\n');
    expect(first).toBe('scenario smoke: closed loop, 2 workers for 10s');
    expect(second).toBe(
      'about    one pod with one container per cycle, the default 7-step cycle, 2 workers for 10 s',
    );
  });

  it('says when leaks are audited during the run, and --leak-check-interval changes it', async () => {
    const soak = await churn('run', 'scenarios/soak-compressed.yaml', '--dry-run');
    expect(soak.stdout).toContain('\nleaks    audited every 30s and after the cleanup\n');
    const smoke = await churn('run', 'scenarios/smoke.yaml', '--dry-run');
    expect(smoke.stdout).not.toContain('leaks ');
    const checked = await churn(
      'run',
      'scenarios/smoke.yaml',
      '--leak-check-interval',
      '2m',
      '--dry-run',
    );
    expect(checked.stdout).toContain('\nleaks    audited every 2m and after the cleanup\n');
    const bad = await churn(
      'run',
      'scenarios/smoke.yaml',
      '--leak-check-interval',
      '2',
      '--dry-run',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--leak-check-interval');
  });
});
