// report.checkpointInterval / --checkpoint-interval: parsing, validation and resolution of auto.
import { describe, expect, it } from 'vitest';
import {
  autoCheckpointIntervalMs,
  parseCheckpointInterval,
  resolveCheckpointIntervalMs,
  type CheckpointSetting,
} from '../../../src/scenario/checkpoint-interval.js';
import { formatProblem, parseScenario, ScenarioError } from '../../../src/scenario/load.js';
import type { ScenarioOverrides } from '../../../src/scenario/overrides.js';

describe('parseCheckpointInterval', () => {
  it.each<[string | number, CheckpointSetting]>([
    ['auto', 'auto'],
    [' AUTO ', 'auto'],
    ['off', 0],
    ['0', 0],
    [0, 0],
    ['0s', 0],
    ['1s', 1000],
    ['5m', 300_000],
    ['1.5s', 1500],
    ['2h', 7_200_000],
  ])('%j → %j', (value, setting) => {
    expect(parseCheckpointInterval(value)).toEqual({ ok: true, setting });
  });

  it.each<[string | number, string]>([
    ['500ms', '"500ms" is too short: write a duration of at least 1s (e.g. 5m), auto, or off (0)'],
    ['999ms', '"999ms" is too short: write a duration of at least 1s (e.g. 5m), auto, or off (0)'],
    [300, '300 has no unit: write e.g. 300s or 300m (or 0 for off)'],
    ['30', '"30" has no unit: write e.g. 30s or 30ms'],
    ['-1s', '"-1s" is negative: a duration must be 0 or more'],
    ['5x', '"5x" has an unknown unit "x": use us, ms, s, m or h'],
    ['5mins', '"5mins" has an unknown unit "mins": use us, ms, s, m or h (did you mean "5m"?)'],
    ['never', '"never": write a duration of at least 1s (e.g. 5m), auto, or off (0)'],
    ['', '"": write a duration of at least 1s (e.g. 5m), auto, or off (0)'],
    ['600h', '"600h" is too long: a duration is at most 576h (24 days)'],
  ])('%j is refused: %s', (value, problem) => {
    expect(parseCheckpointInterval(value)).toEqual({ ok: false, problem });
  });
});

describe('resolveCheckpointIntervalMs', () => {
  it.each<[CheckpointSetting, number, number]>([
    // auto: every 5 min for a run planned longer than 5 min, never for a shorter one.
    ['auto', 10_000, 0],
    ['auto', autoCheckpointIntervalMs, 0],
    ['auto', autoCheckpointIntervalMs + 1, autoCheckpointIntervalMs],
    ['auto', 6 * 3_600_000, autoCheckpointIntervalMs],
    // An explicit interval is kept whatever the plan; 0 is off.
    [1000, 5000, 1000],
    [60_000, 10_000, 60_000],
    [0, 6 * 3_600_000, 0],
  ])('%j with %i ms planned → %i', (setting, plannedMs, expected) => {
    expect(resolveCheckpointIntervalMs(setting, plannedMs)).toBe(expected);
  });
});

function checkpointMs(text: string, overrides: ScenarioOverrides = {}): number {
  return parseScenario(text, 'file.yaml', overrides).report.checkpointIntervalMs;
}

function problems(text: string, overrides: ScenarioOverrides): string[] {
  try {
    parseScenario(text, 'file.yaml', overrides);
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    return err.problems.map(formatProblem);
  }
  throw new Error('accepted');
}

describe('report.checkpointInterval in a scenario', () => {
  it('auto (the default) resolves against the planned length of every phase, pauses included', () => {
    expect(checkpointMs('name: t\n')).toBe(0);
    expect(checkpointMs('name: t\nload: { phases: [{ duration: 6m, concurrency: 1 }] }\n')).toBe(
      300_000,
    );
    expect(
      checkpointMs(
        'name: t\nload:\n  phases:\n    - { duration: 3m, concurrency: 1 }\n    - { pause: 2m }\n    - { duration: 1s, arrivalRate: 1 }\n',
      ),
    ).toBe(300_000);
    // --duration changes the plan before auto is resolved.
    expect(checkpointMs('name: t\n', { duration: '1h' })).toBe(300_000);
  });

  it('takes an explicit interval, off and 0 from the file', () => {
    expect(checkpointMs('name: t\nreport: { checkpointInterval: 1s }\n')).toBe(1000);
    expect(
      checkpointMs(
        'name: t\nload: { phases: [{ duration: 1h, concurrency: 1 }] }\nreport: { checkpointInterval: off }\n',
      ),
    ).toBe(0);
    expect(checkpointMs('name: t\nreport: { checkpointInterval: 0 }\n', { duration: '1h' })).toBe(
      0,
    );
  });

  it('--checkpoint-interval overrides the file', () => {
    expect(
      checkpointMs('name: t\nreport: { checkpointInterval: off }\n', { checkpointInterval: '2s' }),
    ).toBe(2000);
    expect(checkpointMs('name: t\n', { duration: '1h', checkpointInterval: 'off' })).toBe(0);
  });

  it('a bad value is refused at its line, or naming the flag', () => {
    expect(problems('name: t\nreport:\n  checkpointInterval: 100ms\n', {})).toEqual([
      'file.yaml:3:23 report.checkpointInterval: "100ms" is too short: write a duration of at least 1s (e.g. 5m), auto, or off (0)',
    ]);
    expect(problems('name: t\n', { checkpointInterval: 'sometimes' })).toEqual([
      '--checkpoint-interval report.checkpointInterval: "sometimes": write a duration of at least 1s (e.g. 5m), auto, or off (0)',
    ]);
  });
});
