// The schema's resolution (what a key becomes) and its checks across keys.
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../../src/scenario/load.js';
import type { Scenario } from '../../../src/scenario/schema.js';

/** Parses a scenario given as data (JSON is YAML). */
function scenario(data: object): Scenario {
  return parseScenario(JSON.stringify(data), 's.yaml');
}

/** `path: message` of each problem of a scenario given as data. */
function issues(data: object): string[] {
  try {
    scenario(data);
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

describe('resolution', () => {
  it('resolves steps: names, exec in short and long form, sleep', () => {
    const s = scenario({
      workload: {
        steps: [
          'run_pod',
          'create',
          'start',
          'exec',
          { exec: { command: ['sh', '-c', 'exit 3'], expectExitCode: 3, timeout: '2s' } },
          { sleep: '150ms' },
          'stop',
          'remove',
          'stop_pod',
          'remove_pod',
        ],
      },
    });
    expect(s.workloads[0]!.steps.slice(3, 6)).toEqual([
      { kind: 'exec', op: 'exec', command: ['true'], expectExitCode: 0, timeoutMs: 10_000 },
      {
        kind: 'exec',
        op: 'exec',
        command: ['sh', '-c', 'exit 3'],
        expectExitCode: 3,
        timeoutMs: 2000,
      },
      { kind: 'sleep', durationMs: 150 },
    ]);
  });

  it('resolves closed, open and pause phases with their defaults', () => {
    const s = scenario({
      load: {
        arrivals: 'poisson',
        phases: [
          { duration: '5s', concurrency: 1, record: false },
          { name: 'ramp', duration: '1m', concurrency: 2, rampTo: 8, iterationsPerWorker: 50 },
          { pause: '2s' },
          { duration: '30s', arrivalRate: 10, rampTo: 40 },
          { duration: '30s', arrivalRate: 0.5, arrivals: 'uniform' },
        ],
      },
    });
    expect(s.load.phases).toEqual([
      {
        kind: 'closed',
        name: 'phase-1',
        durationMs: 5000,
        concurrency: 1,
        rampTo: 1,
        record: false,
        iterationsPerWorker: undefined,
      },
      {
        kind: 'closed',
        name: 'ramp',
        durationMs: 60_000,
        concurrency: 2,
        rampTo: 8,
        record: true,
        iterationsPerWorker: 50,
      },
      { kind: 'pause', name: 'phase-3', durationMs: 2000 },
      {
        kind: 'open',
        name: 'phase-4',
        durationMs: 30_000,
        arrivalRate: 10,
        rampTo: 40,
        arrivals: 'poisson',
        record: true,
      },
      {
        kind: 'open',
        name: 'phase-5',
        durationMs: 30_000,
        arrivalRate: 0.5,
        rampTo: 0.5,
        arrivals: 'uniform',
        record: true,
      },
    ]);
  });

  it('resolves faults: fixed or normal latency, a stall, ratio as fraction or percent', () => {
    const s = scenario({
      faults: {
        start: { latency: '40ms', stall: '500ms', errorRate: '10%', code: 'UNAVAILABLE' },
        stop: { latency: { mean: '1s', stddev: '100ms' } },
        create: { errorRate: 0.5, code: 'RESOURCE_EXHAUSTED' },
      },
    });
    expect(s.faults).toEqual({
      start: {
        latencyMs: { meanMs: 40, stddevMs: 0 },
        stallMs: 500,
        errorRate: 0.1,
        code: 'UNAVAILABLE',
      },
      stop: {
        latencyMs: { meanMs: 1000, stddevMs: 100 },
        stallMs: 0,
        errorRate: 0,
        code: 'UNAVAILABLE',
      },
      create: {
        latencyMs: { meanMs: 0, stddevMs: 0 },
        stallMs: 0,
        errorRate: 0.5,
        code: 'RESOURCE_EXHAUSTED',
      },
    });
  });

  it('resolves thresholds in short and long form', () => {
    const s = scenario({
      thresholds: [
        'p99(start) < 250ms',
        { threshold: 'error_rate < 1%', abortOnFail: true, delay: '1m', window: '10s' },
      ],
    });
    expect(s.thresholds.map(({ expr, ...rest }) => ({ source: expr.source, ...rest }))).toEqual([
      { source: 'p99(start) < 250ms', abortOnFail: false, delayMs: 0, windowMs: 30_000 },
      { source: 'error_rate < 1%', abortOnFail: true, delayMs: 60_000, windowMs: 10_000 },
    ]);
  });

  it('resolves weighted workloads, each with its own defaults', () => {
    const s = scenario({
      target: { driver: 'cri' },
      workloads: [
        { name: 'a', weight: 3 },
        { name: 'b', image: 'registry.local/b:1', podPerCycle: false, pods: 4 },
      ],
    });
    expect(s.workloads.map((w) => [w.name, w.weight, w.image, w.pods, w.steps.length])).toEqual([
      ['a', 3, 'docker.io/library/busybox:latest', 1, 7],
      ['b', 1, 'registry.local/b:1', 4, 4],
    ]);
  });
});

describe('checks across keys', () => {
  it.each([
    [
      { load: { phases: [{ duration: '1s', concurrency: 1, arrivalRate: 1 }] } },
      'load.phases[0].arrivalRate: a phase is closed (concurrency) or open (arrivalRate), not both',
    ],
    [
      { load: { phases: [{ duration: '1s' }] } },
      'load.phases[0]: a phase needs concurrency (closed loop), arrivalRate (open loop) or pause',
    ],
    [
      { load: { phases: [{ concurrency: 1 }] } },
      'load.phases[0]: a phase needs a duration (e.g. duration: 30s)',
    ],
    [
      { load: { phases: [{ duration: '1s', rampTo: 3 }] } },
      'load.phases[0].rampTo: rampTo needs a starting concurrency or arrivalRate',
    ],
    [
      { load: { phases: [{ duration: '1s', concurrency: 4, rampTo: 0 }] } },
      'load.phases[0].rampTo: rampTo of a closed-loop phase is a number of workers: use 1 or more',
    ],
    [
      {
        load: {
          phases: [
            { pause: '1s', rampTo: 3 },
            { duration: '1s', concurrency: 1 },
          ],
        },
      },
      'load.phases[0].rampTo: a pause phase takes no rampTo',
    ],
    [
      { load: { phases: [{ pause: '1s' }] } },
      'load.phases: every phase is a pause: at least one phase must run cycles',
    ],
    [
      {
        load: {
          phases: [
            { name: 'a', duration: '1s', concurrency: 1 },
            { name: 'a', pause: '1s' },
          ],
        },
      },
      'load.phases[1].name: duplicate phase name "a"',
    ],
    [
      { workload: {}, workloads: [{ name: 'a' }] },
      'workloads: use either workload (one) or workloads (a weighted list), not both',
    ],
    [
      { workloads: [{ name: 'a' }, { name: 'a' }] },
      'workloads[1].name: duplicate workload name "a"',
    ],
    [
      { workload: { pods: 3 } },
      'workload.pods: pods is the number of shared long-lived pods: it needs podPerCycle: false',
    ],
    [
      { target: { driver: 'cri' }, faults: { start: { errorRate: 0.1 } } },
      'faults: faults are injected by the builtin driver only (target.driver: builtin)',
    ],
    [
      { target: { driver: 'cri', taskUser: '1000' } },
      "target.taskUser: applies to the builtin driver's process executor, not to driver cri (give churn serve --task-user instead)",
    ],
    [
      { target: { taskUser: '1000:100:7' } },
      'target.taskUser: must be UID[:GID] or NAME[:GROUP] (names of the host), e.g. 65534:65534, nobody, or 0',
    ],
    [
      { faults: { list: { errorRate: 0.1 } } },
      'faults.list: faults cannot be injected into list: use one of pull, run_pod, create, start, exec, stop, remove, stop_pod, remove_pod',
    ],
    [
      { thresholds: ['p99(pull) < 1s'] },
      'thresholds[0]: threshold "p99(pull) < 1s" names pull, which no workload performs (performed: run_pod, create, start, stop, remove, stop_pod, remove_pod, cycle)',
    ],
  ])('%j', (data, message) => {
    expect(issues(data)).toEqual([message]);
  });

  it('accepts thresholds on what any workload performs, shared pods included', () => {
    expect(
      issues({
        workloads: [
          { name: 'a', podPerCycle: false },
          { name: 'b', steps: ['pull', 'run_pod', 'stop_pod', 'remove_pod'] },
        ],
        thresholds: [
          'p99(pull) < 1s',
          'p99(run_pod) < 1s',
          'p99(start) < 1s',
          'throughput(cycle) > 1',
        ],
      }),
    ).toEqual([]);
  });
});

describe('steps follow the lifecycle', () => {
  const stepIssues = (steps: unknown[], podPerCycle = true): string[] =>
    issues({ workload: { podPerCycle, steps } });

  it.each([
    [
      [
        'pull',
        'list',
        'run_pod',
        'create',
        'start',
        'status',
        'exec',
        'stop',
        'status',
        'remove',
        'stop_pod',
        'remove_pod',
      ],
    ],
    [
      [
        'run_pod',
        'create',
        'start',
        'stop',
        'remove',
        'create',
        'start',
        'stop',
        'remove',
        'stop_pod',
        'remove_pod',
      ],
    ],
    [['run_pod', 'create', 'start', 'stop_pod', 'remove_pod']],
    [['run_pod', 'create', 'remove', 'remove_pod']],
    [['run_pod', { sleep: '1s' }, 'remove_pod', 'run_pod', 'remove_pod']],
  ])('accepts %j', (steps) => {
    expect(stepIssues(steps)).toEqual([]);
  });

  it('accepts container steps in shared pods', () => {
    expect(stepIssues(['create', 'start', 'exec', 'stop', 'remove'], false)).toEqual([]);
  });

  it.each([
    [['create'], 'workload.steps[0]: create needs a pod: put run_pod before it'],
    [
      ['run_pod', 'run_pod'],
      'workload.steps[1]: run_pod: the cycle already has a pod (remove_pod it first)',
    ],
    [['stop_pod'], 'workload.steps[0]: stop_pod needs a pod: put run_pod before it'],
    [['remove_pod'], 'workload.steps[0]: remove_pod needs a pod: put run_pod before it'],
    [
      ['run_pod', 'stop_pod', 'create'],
      'workload.steps[2]: create needs a ready pod, but stop_pod came before it',
    ],
    [
      ['run_pod', 'create', 'create'],
      'workload.steps[2]: create: the cycle already has its containers (remove them first)',
    ],
    [
      ['run_pod', 'start'],
      'workload.steps[1]: start needs created containers: put create before it',
    ],
    [
      ['run_pod', 'create', 'start', 'start'],
      'workload.steps[3]: start: the containers are already running',
    ],
    [
      ['run_pod', 'exec'],
      'workload.steps[1]: exec needs running containers: put create and start before it',
    ],
    [
      ['run_pod', 'create', 'exec'],
      'workload.steps[2]: exec needs running containers: put start before it',
    ],
    [
      ['run_pod', 'create', 'start', 'stop_pod', 'exec'],
      'workload.steps[4]: exec needs running containers, but they were stopped before it',
    ],
    [
      ['run_pod', 'stop'],
      'workload.steps[1]: stop needs containers: put create and start before it',
    ],
    [['run_pod', 'remove'], 'workload.steps[1]: remove needs containers: put create before it'],
    [
      ['run_pod', 'create', 'remove', 'status'],
      'workload.steps[3]: status needs containers: put create before it',
    ],
  ])('refuses %j', (steps, message) => {
    expect(stepIssues(steps)).toEqual([message]);
  });

  it('refuses pod steps in shared pods, once each', () => {
    expect(stepIssues(['run_pod', 'create', 'start', 'stop', 'remove', 'stop_pod'], false)).toEqual(
      [
        'workload.steps[0]: run_pod cannot be a step when podPerCycle is false: the shared pods live for the whole run',
        'workload.steps[5]: stop_pod cannot be a step when podPerCycle is false: the shared pods live for the whole run',
      ],
    );
  });
});
