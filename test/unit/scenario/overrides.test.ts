// CLI overrides: applied to the file's data before validation; problems name the flag.
import { describe, expect, it } from 'vitest';
import yargs from 'yargs';
import { formatProblem, parseScenario, ScenarioError } from '../../../src/scenario/load.js';
import {
  applyOverrides,
  overrideFlags,
  overridesFromArgs,
  type ScenarioOverrides,
} from '../../../src/scenario/overrides.js';
import type { Scenario } from '../../../src/scenario/schema.js';

const multiPhase = `
name: multi
load:
  phases:
    - { duration: 10s, concurrency: 1, record: false }
    - { duration: 30s, arrivalRate: 5, rampTo: 20, arrivals: poisson }
    - { pause: 20s }
    - { duration: 1m, concurrency: 4, rampTo: 8, iterationsPerWorker: 9 }
`;

function run(text: string, overrides: ScenarioOverrides): Scenario {
  return parseScenario(text, 'file.yaml', overrides);
}

function problems(text: string, overrides: ScenarioOverrides): string[] {
  try {
    run(text, overrides);
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    return err.problems.map(formatProblem);
  }
  throw new Error('accepted');
}

describe('overrides', () => {
  it('sets the target', () => {
    const s = run('name: t\n', {
      driver: 'cri',
      endpoint: 'unix:///tmp/c.sock',
      runtimeHandler: 'runc-alt',
      executor: 'runc',
    });
    expect(s.target).toMatchObject({
      driver: 'cri',
      endpoint: 'unix:///tmp/c.sock',
      runtimeHandler: 'runc-alt',
      executor: 'runc',
    });
  });

  it('sets the task user of the builtin core', () => {
    expect(run('name: t\n', { taskUser: 'nobody:nogroup' }).target.taskUser).toBe('nobody:nogroup');
  });

  it('takes --endpoint alone to mean the cri driver, even over a file that says builtin', () => {
    const s = run('name: t\ntarget: { driver: builtin }\n', { endpoint: 'unix:///tmp/c.sock' });
    expect(s.target).toMatchObject({ driver: 'cri', endpoint: 'unix:///tmp/c.sock' });
  });

  it('refuses --endpoint with --driver builtin', () => {
    expect(problems('name: t\n', { driver: 'builtin', endpoint: 'unix:///tmp/c.sock' })).toEqual([
      '--endpoint target.endpoint: applies to --driver cri, not --driver builtin',
    ]);
  });

  it('sets the image of the one workload, or of every workload', () => {
    expect(run('name: t\n', { image: 'busybox:local' }).workloads[0]!.image).toBe('busybox:local');
    const s = run('workloads: [{ name: a, image: x }, { name: b }]\n', { image: 'busybox:local' });
    expect(s.workloads.map((w) => w.image)).toEqual(['busybox:local', 'busybox:local']);
  });

  it('sets iterations, seed, report dir and merges labels', () => {
    const s = run('report: { labels: { a: "1", b: "2" } }\n', {
      iterations: 500,
      seed: 9,
      reportDir: '/tmp/r',
      labels: ['b=two', 'commit=abc=def'],
    });
    expect(s.load.iterations).toBe(500);
    expect(s.seed).toBe(9);
    expect(s.report.dir).toBe('/tmp/r');
    expect(s.report.labels).toEqual({ a: '1', b: 'two', commit: 'abc=def' });
  });

  it('--duration sets a single phase’s duration', () => {
    const s = run('load: { phases: [{ duration: 10s, arrivalRate: 2 }] }\n', { duration: '90s' });
    expect(s.load.phases.map((p) => p.durationMs)).toEqual([90_000]);
  });

  it('--duration applies to the default phase of a file that has none', () => {
    const s = run('name: t\n', { duration: '3s' });
    expect(s.load.phases).toMatchObject([{ kind: 'closed', durationMs: 3000, concurrency: 2 }]);
  });

  it('--duration scales several phases in proportion, pauses included', () => {
    // 10 s + 30 s + 20 s + 60 s = 2 m, scaled to 1 m.
    const s = run(multiPhase, { duration: '1m' });
    expect(s.load.phases.map((p) => p.durationMs)).toEqual([5000, 15_000, 10_000, 30_000]);
    expect(s.load.phases.map((p) => p.kind)).toEqual(['closed', 'open', 'pause', 'closed']);
  });

  it('--duration rounds to whole ms and the phases add up exactly', () => {
    const text =
      'load: { phases: [{ duration: 1s, concurrency: 1 }, { duration: 1s, concurrency: 1 }, { duration: 1s, concurrency: 1 }] }';
    const s = run(text, { duration: '10s' });
    const durations = s.load.phases.map((p) => p.durationMs);
    expect(durations).toEqual([3333, 3334, 3333]);
    expect(durations.reduce((a, b) => a + b, 0)).toBe(10_000);
  });

  it('--concurrency makes every phase but pauses flat closed loop', () => {
    const s = run(multiPhase, { concurrency: 3 });
    expect(s.load.phases).toEqual([
      {
        kind: 'closed',
        name: 'phase-1',
        durationMs: 10_000,
        concurrency: 3,
        rampTo: 3,
        record: false,
        iterationsPerWorker: undefined,
      },
      {
        kind: 'closed',
        name: 'phase-2',
        durationMs: 30_000,
        concurrency: 3,
        rampTo: 3,
        record: true,
        iterationsPerWorker: undefined,
      },
      { kind: 'pause', name: 'phase-3', durationMs: 20_000 },
      {
        kind: 'closed',
        name: 'phase-4',
        durationMs: 60_000,
        concurrency: 3,
        rampTo: 3,
        record: true,
        iterationsPerWorker: 9,
      },
    ]);
  });

  it('--rate makes every phase but pauses flat open loop', () => {
    const s = run(multiPhase, { rate: 12.5 });
    expect(s.load.phases).toEqual([
      {
        kind: 'open',
        name: 'phase-1',
        durationMs: 10_000,
        arrivalRate: 12.5,
        rampTo: 12.5,
        arrivals: 'uniform',
        record: false,
      },
      {
        kind: 'open',
        name: 'phase-2',
        durationMs: 30_000,
        arrivalRate: 12.5,
        rampTo: 12.5,
        arrivals: 'poisson',
        record: true,
      },
      { kind: 'pause', name: 'phase-3', durationMs: 20_000 },
      {
        kind: 'open',
        name: 'phase-4',
        durationMs: 60_000,
        arrivalRate: 12.5,
        rampTo: 12.5,
        arrivals: 'uniform',
        record: true,
      },
    ]);
  });

  it('leaves the data it was given unchanged', () => {
    const raw = { load: { phases: [{ duration: '1s', arrivalRate: 3 }] }, workload: {} };
    const copy = structuredClone(raw);
    const applied = applyOverrides(raw, { concurrency: 2, image: 'x', labels: ['a=b'] });
    expect(raw).toEqual(copy);
    expect(applied.value).not.toEqual(raw);
  });

  it('leaves parts of the wrong shape for validation to report at their line', () => {
    expect(
      problems('target: cri\nload: { phases: 3 }\n', { driver: 'cri', concurrency: 2 }),
    ).toEqual([
      'file.yaml:1:9 target: expected a mapping, got the string "cri"',
      'file.yaml:2:17 load.phases: expected a list, got the number 3',
    ]);
  });
});

describe('problems with overridden values name the flag', () => {
  it.each<[ScenarioOverrides, string]>([
    [{ concurrency: 0 }, '--concurrency load.phases[0].concurrency: must be ≥ 1'],
    [
      { concurrency: 2.5 },
      '--concurrency load.phases[0].concurrency: expected a whole number, got the number 2.5',
    ],
    [{ rate: -1 }, '--rate load.phases[0].arrivalRate: must be > 0'],
    [
      { driver: 'crio' },
      '--driver target.driver: unknown value "crio" (did you mean "cri"?): use one of builtin, cri, containerd',
    ],
    [
      { executor: 'proces' },
      '--executor target.executor: unknown value "proces" (did you mean "process"?): use one of process, runc',
    ],
    [
      { duration: '10' },
      '--duration load.phases[0].duration: "10" has no unit: write e.g. 10s or 10ms',
    ],
    [{ duration: '0s' }, '--duration load.phases[0].duration: must be more than 0 (e.g. 30s)'],
    [
      { iterations: Number.NaN },
      '--iterations load.iterations: expected a number, got NaN (not a number)',
    ],
    [
      { endpoint: 'http://localhost:1234' },
      '--endpoint target.endpoint: "http://localhost:1234": unsupported scheme; use unix:///absolute/path.sock (or unix:/path, or the bare absolute path), or tcp://127.0.0.1:PORT',
    ],
    [{ image: '' }, '--image workload.image: must not be empty'],
    [
      { taskUser: '1:2:3' },
      '--task-user target.taskUser: must be UID[:GID] or NAME[:GROUP] (names of the host), e.g. 65534:65534, nobody, or 0',
    ],
    [
      { driver: 'cri', taskUser: '0' },
      "--task-user target.taskUser: applies to the builtin driver's process executor, not to driver cri (give churn serve --task-user instead)",
    ],
    [{ labels: ['novalue'] }, '--label report.labels: "novalue" is not key=value'],
    [{ labels: ['=x'] }, '--label report.labels: "=x" is not key=value'],
    [
      { concurrency: 2, rate: 3 },
      '--rate load.phases: cannot be combined with --concurrency: a phase is closed loop or open loop',
    ],
  ])('%j', (overrides, message) => {
    expect(problems('name: t\n', overrides)).toEqual([message]);
  });

  it('names --duration when several phases cannot be scaled to it', () => {
    expect(problems(multiPhase, { duration: 'soon' })).toEqual([
      '--duration load.phases: "soon" is not a duration: use a number and a unit, ms, s, m or h (e.g. 250ms, 30s)',
    ]);
  });

  it('puts flag problems first, then the file’s own, with a header naming the file', () => {
    const text = 'seed: -3\nload: { phases: [{ duration: 5s, concurrency: 1 }] }\n';
    expect(() => run(text, { concurrency: 0 })).toThrow(
      [
        'file.yaml: 2 problems',
        '  --concurrency load.phases[0].concurrency: must be ≥ 1',
        '  file.yaml:1:7 seed: must be ≥ 0',
      ].join('\n'),
    );
  });

  it('points at the file when an override makes another key wrong', () => {
    const text = 'name: t\nfaults:\n  start: { errorRate: 1% }\n';
    expect(problems(text, { driver: 'cri' })).toEqual([
      'file.yaml:3:3 faults: faults are injected by the builtin driver only (target.driver: builtin)',
    ]);
  });
});

describe('overridesFromArgs', () => {
  it('picks the flags out of parsed arguments and leaves the rest', () => {
    expect(
      overridesFromArgs({
        _: ['run'],
        $0: 'churn',
        driver: 'cri',
        runtimeHandler: 'runc',
        'runtime-handler': 'runc',
        reportDir: 'out',
        concurrency: '4',
        rate: undefined,
        duration: '30s',
        label: ['a=b', 'c=d'],
        json: true,
      }),
    ).toEqual({
      driver: 'cri',
      runtimeHandler: 'runc',
      reportDir: 'out',
      concurrency: 4,
      duration: '30s',
      labels: ['a=b', 'c=d'],
    });
  });

  it('takes a single --label and gives nothing for no flags', () => {
    expect(overridesFromArgs({ label: 'a=b' })).toEqual({ labels: ['a=b'] });
    expect(overridesFromArgs({})).toEqual({});
  });
});

describe('overrideFlags', () => {
  it('declared to yargs, parse back into the overrides with overridesFromArgs', () => {
    let parser = yargs([
      '--driver=cri',
      '--runtime-handler',
      'runc',
      '--concurrency',
      '3',
      '--duration',
      '1m',
      '--label',
      'a=b',
      '--label',
      'c=d',
      '--report-dir',
      'out',
      '--seed',
      '7',
    ]).strict();
    for (const f of Object.values(overrideFlags)) {
      parser = parser.option(f.flag.slice(2), {
        describe: f.describe,
        type: f.type,
        array: f.array,
      });
    }
    expect(overridesFromArgs(parser.parseSync())).toEqual({
      driver: 'cri',
      runtimeHandler: 'runc',
      concurrency: 3,
      duration: '1m',
      labels: ['a=b', 'c=d'],
      reportDir: 'out',
      seed: 7,
    });
  });
});
