// `churn run` without a runtime: its flags, the --dry-run plan, the --help examples against the
// shipped scenarios, and how an abortOnFail stop is reported.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import { runExamples } from '../../../src/cli/commands/run.js';
import { abortedMessage } from '../../../src/cli/run-session.js';
import type { ThresholdResult } from '../../../src/load/threshold-eval.js';
import { parseScenario } from '../../../src/scenario/load.js';
import { bufferIo } from '../../support/cli-io.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

async function churn(...args: string[]) {
  const io = bufferIo({ cwd: root });
  const code = await runCli(args, io.io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('churn run --dry-run', () => {
  it('prints phase boundaries as hours, minutes and seconds, in aligned columns', async () => {
    const { code, stdout, stderr } = await churn(
      'run',
      'scenarios/lifecycle-open-ramp.yaml',
      '--dry-run',
      '--duration',
      '394521ms',
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    const phases = lines.slice(lines.indexOf('phases') + 1, lines.indexOf('phases') + 6);
    expect(phases).toEqual([
      '  0s–46.414s           warm-up   open loop, 1 cycles/s (poisson), ≈46 cycles (warm-up, not recorded)',
      '  46.414s–3m52.071s    ramp      open loop, 1 → 8 cycles/s (poisson), ≈835 cycles',
      '  3m52.071s–5m24.9s    hold      open loop, 8 cycles/s (poisson), ≈743 cycles',
      '  5m24.9s–5m48.107s    breather  pause',
      '  5m48.107s–6m34.521s  again     open loop, 8 cycles/s (poisson), ≈371 cycles',
    ]);
    expect(stdout).toContain(
      'total    6m34.521s + drain up to 30s; ≈1996 open-loop cycles, maxInflight 32\n',
    );
  });

  it('says 1 worker, 1 container, 1 shared pod, and plural otherwise', async () => {
    const one = await churn('run', '--dry-run', '--concurrency', '1');
    expect(one.stdout).toContain('closed loop, 1 worker\n');
    expect(one.stdout).toContain('a pod per cycle, 1 container per pod;');
    const shared = await churn('run', 'scenarios/exec-heavy.yaml', '--dry-run');
    expect(shared.stdout).toContain('2 shared pods, 1 container per pod;');
    expect(shared.stdout).toContain('closed loop, 3 workers\n');
    const dense = await churn('run', 'scenarios/pod-density.yaml', '--dry-run');
    expect(dense.stdout).toContain('8 containers per pod;');
  });

  it('says when the iterations cap ends the run before the plan does', async () => {
    const { stdout } = await churn(
      'run',
      'scenarios/soak-nightly.yaml',
      '--dry-run',
      '--duration',
      '8h',
    );
    expect(stdout).toContain(
      'total    8h + drain up to 1m; ≈100000 open-loop cycles, maxInflight 64; capped at 100000 cycles, reached at ≈6h59m8s, before the planned end\n',
    );
  });
});

describe('churn run flags', () => {
  it('--duration -1s is a negative duration, reported once, not the flags -1 and -s', async () => {
    const { code, stdout, stderr } = await churn(
      'run',
      'scenarios/smoke.yaml',
      '--dry-run',
      '--duration',
      '-1s',
    );
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'churn: scenarios/smoke.yaml: 1 problem\n  --duration load.phases[0].duration: "-1s" is negative: a duration must be 0 or more\n',
    );
  });

  it('a value flag with nothing after it is bad usage', async () => {
    const { code, stderr } = await churn('run', '--dry-run', '--duration');
    expect(code).toBe(2);
    expect(stderr).toContain('churn: Not enough arguments following: duration\n');
  });

  it('--label still takes several values', async () => {
    const { code, stdout } = await churn(
      'run',
      '--dry-run',
      '--json',
      '--label',
      'a=1',
      '--label',
      'b=2',
    );
    expect(code).toBe(0);
    const { scenario } = JSON.parse(stdout) as { scenario: { report: { labels: object } } };
    expect(scenario.report.labels).toEqual({ a: '1', b: '2' });
  });
});

describe('churn run --help examples', () => {
  it('are the examples --help shows', async () => {
    const { stdout } = await churn('run', '--help');
    // Help wraps the command and description columns into each other: compare the words.
    const shown = new Set(stdout.slice(stdout.indexOf('Examples:')).split(/\s+/));
    for (const [command, description] of runExamples) {
      for (const word of `${command.replace('$0', 'churn')} ${description}`.split(' ')) {
        expect(shown, word).toContain(word);
      }
    }
  });

  it.each(runExamples.map(([command]) => command))(
    '%s runs its whole plan, not cut short by the iterations cap',
    async (command) => {
      const args = command.split(' ').slice(1);
      const { code, stdout, stderr } = await churn(...args, '--dry-run');
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toMatch(/^total /m);
      expect(stdout).not.toContain('before the planned end');
    },
  );
});

describe('the message of a run stopped by abortOnFail', () => {
  const scenario = parseScenario(
    [
      'thresholds:',
      '  - { threshold: error_rate < 5%, abortOnFail: true, window: 5m }',
      '  - { threshold: p99(cycle) < 1s, abortOnFail: true }',
      '  - { threshold: throughput(cycle) > 20, abortOnFail: true, window: 90s }',
      '',
    ].join('\n'),
    'x.yaml',
  );
  const result = (
    source: string,
    metric: ThresholdResult['metric'],
    actual: number,
  ): ThresholdResult => ({
    source,
    metric,
    op: metric === 'error_rate' ? undefined : 'cycle',
    comparator: '<',
    value: 0,
    actual,
    ok: false,
    abortOnFail: true,
  });

  it.each([
    [
      result('error_rate < 5%', 'error_rate', 0.4915254237288136),
      'aborted: threshold "error_rate < 5%" failed over the last 5m (actual 49.2%)',
    ],
    [
      result('p99(cycle) < 1s', 'p99', 1234.5),
      'aborted: threshold "p99(cycle) < 1s" failed over the last 30s (actual 1.23s)',
    ],
    [
      result('throughput(cycle) > 20', 'throughput', 12.345),
      'aborted: threshold "throughput(cycle) > 20" failed over the last 1m30s (actual 12.3/s)',
    ],
  ])('writes the actual value in the unit of its metric: %#', (abortedBy, message) => {
    expect(abortedMessage(abortedBy, scenario)).toBe(message);
  });
});

function checkpointMs(stdout: string): number {
  return (JSON.parse(stdout) as { scenario: { report: { checkpointIntervalMs: number } } }).scenario
    .report.checkpointIntervalMs;
}

describe('churn run --checkpoint-interval', () => {
  it('resolves auto against the plan: none for the 10 s smoke run, 5m for an hour', async () => {
    expect(checkpointMs((await churn('run', '--dry-run', '--json')).stdout)).toBe(0);
    const hour = await churn('run', '--dry-run', '--json', '--duration', '1h');
    expect(checkpointMs(hour.stdout)).toBe(300_000);
    const text = await churn('run', '--dry-run', '--duration', '1h');
    expect(text.stdout).toContain('checkpoint every 5m: the report so far');
  });

  it('takes an interval, or off', async () => {
    const every = await churn('run', '--dry-run', '--json', '--checkpoint-interval', '1s');
    expect(checkpointMs(every.stdout)).toBe(1000);
    const off = await churn(
      'run',
      '--dry-run',
      '--json',
      '--duration',
      '1h',
      '--checkpoint-interval',
      'off',
    );
    expect(checkpointMs(off.stdout)).toBe(0);
  });

  it('refuses a bad value with exit 2, naming the flag', async () => {
    const { code, stdout, stderr } = await churn(
      'run',
      '--dry-run',
      '--checkpoint-interval',
      '10ms',
    );
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      '--checkpoint-interval report.checkpointInterval: "10ms" is too short: write a duration of at least 1s (e.g. 5m), auto, or off (0)',
    );
  });

  it('is explained by churn run --help', async () => {
    const { stdout } = await churn('run', '--help');
    expect(stdout).toContain('--checkpoint-interval');
    expect(stdout).toContain('leaves its last checkpoint');
  });
});
