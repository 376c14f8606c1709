// Every duration is waited on with one Node timer, and Node fires a timer of more than
// 2^31 − 1 ms at once (with only a warning): durations beyond maxDurationMs are refused where
// they are written, in the file or by --duration.
import { describe, expect, it } from 'vitest';
import { formatProblem, parseScenario, ScenarioError } from '../../../src/scenario/load.js';
import type { ScenarioOverrides } from '../../../src/scenario/overrides.js';
import { maxDurationMs, parseDurationMs } from '../../../src/scenario/units.js';

function problems(text: string, overrides: ScenarioOverrides = {}): string[] {
  try {
    parseScenario(text, 'x.yaml', overrides);
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    return err.problems.map(formatProblem);
  }
  throw new Error('accepted');
}

const tooLong = (text: string): string =>
  `"${text}" is too long: a duration is at most 576h (24 days)`;

describe('the longest duration', () => {
  it('is 576h, within what one Node timer can wait', () => {
    expect(maxDurationMs).toBe(parseDurationMs('576h'));
    expect(maxDurationMs).toBeLessThanOrEqual(2 ** 31 - 1);
  });

  it('is accepted for a phase, and one millisecond more is not', () => {
    const phase = (d: string): string =>
      `load:\n  phases:\n    - { duration: ${d}, concurrency: 1 }\n`;
    expect(parseScenario(phase('576h'), 'x.yaml').load.phases[0]!.durationMs).toBe(maxDurationMs);
    expect(problems(phase(`${maxDurationMs + 1}ms`))).toEqual([
      `x.yaml:3:19 load.phases[0].duration: ${tooLong(`${maxDurationMs + 1}ms`)}`,
    ]);
  });

  it('refuses a number too large for a timer, even one past what a double holds exactly', () => {
    expect(
      problems('load:\n  phases:\n    - duration: 99999999999999999999h\n      concurrency: 1\n'),
    ).toEqual([`x.yaml:3:17 load.phases[0].duration: ${tooLong('99999999999999999999h')}`]);
    expect(problems(`load: { drainTimeout: ${'9'.repeat(400)}h }\n`)).toEqual([
      `x.yaml:1:23 load.drainTimeout: ${tooLong(`${'9'.repeat(400)}h`)}`,
    ]);
  });

  it('applies to every duration-typed key, each reported at its line and key path', () => {
    const text = [
      'target: { callTimeout: 600h }',
      'faults:',
      '  start: { latency: 600h }',
      '  stop: { latency: { mean: 1s, stddev: 600h } }',
      'workload:',
      '  stopTimeout: 600h',
      '  steps:',
      '    - run_pod',
      '    - sleep: 600h',
      '    - create',
      '    - start',
      '    - exec: { command: ["true"], timeout: 600h }',
      '    - stop',
      '    - remove',
      '    - stop_pod',
      '    - remove_pod',
      'load:',
      '  drainTimeout: 600h',
      '  phases:',
      '    - { duration: 600h, concurrency: 1 }',
      '    - pause: 600h',
      'thresholds:',
      '  - { threshold: error_rate < 1%, abortOnFail: true, delay: 600h, window: 600h }',
      'report: { interval: 600h }',
      '',
    ].join('\n');
    expect(problems(text)).toEqual(
      [
        'x.yaml:1:24 target.callTimeout',
        'x.yaml:3:21 faults.start.latency',
        'x.yaml:4:40 faults.stop.latency.stddev',
        'x.yaml:6:16 workload.stopTimeout',
        'x.yaml:9:14 workload.steps[1].sleep',
        'x.yaml:12:43 workload.steps[4].exec.timeout',
        'x.yaml:18:17 load.drainTimeout',
        'x.yaml:20:19 load.phases[0].duration',
        'x.yaml:21:14 load.phases[1].pause',
        'x.yaml:23:61 thresholds[0].delay',
        'x.yaml:23:75 thresholds[0].window',
        'x.yaml:24:21 report.interval',
      ].map((where) => `${where}: ${tooLong('600h')}`),
    );
  });

  it('--duration is refused by name when it makes a single phase too long', () => {
    expect(problems('name: t\n', { duration: '577h' })).toEqual([
      `--duration load.phases[0].duration: ${tooLong('577h')}`,
    ]);
  });

  it('--duration is refused when scaling several phases would stretch one beyond it', () => {
    const text = 'load:\n  phases:\n    - { duration: 1h, concurrency: 1 }\n    - pause: 3h\n';
    // 800h over 1h + 3h: 200h and 600h.
    expect(problems(text, { duration: '800h' })).toEqual([
      '--duration load.phases: "800h" would stretch phase 2 beyond 576h (24 days), the longest a phase may last',
    ]);
    expect(problems(text, { duration: `${'9'.repeat(30)}h` })).toEqual([
      `--duration load.phases: "${'9'.repeat(30)}h" would stretch phase 1 beyond 576h (24 days), the longest a phase may last`,
    ]);
    // 768h over the same two phases is 192h and 576h: the run may be longer than one phase.
    const s = parseScenario(text, 'x.yaml', { duration: '768h' });
    expect(s.load.phases.map((p) => p.durationMs)).toEqual([192 * 3_600_000, maxDurationMs]);
  });
});
