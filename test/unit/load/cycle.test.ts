import { describe, expect, it } from 'vitest';
import {
  checkSteps,
  runCycle,
  workloadOps,
  type CycleEnv,
  type CycleSinks,
} from '../../../src/load/cycle.js';
import type { OpSink } from '../../../src/metrics/recorder.js';
import { opNames, type OpName } from '../../../src/common/operations.js';
import { scenarioSchema, type Step, type Workload } from '../../../src/scenario/schema.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FakeDriver, type FakeDriverOptions } from '../../support/fake-driver.js';

function workload(input: Record<string, unknown> = {}): Workload {
  return scenarioSchema.parse({ workload: input }).workloads[0]!;
}

const op = (name: Exclude<OpName, 'exec' | 'cycle'>): Step => ({ kind: 'op', op: name });

/** Sinks that remember every record as `op ok <µs>` or `op <code>`. */
function sinks(): { sinks: CycleSinks; log: string[] } {
  const log: string[] = [];
  const out: Partial<Record<OpName, OpSink>> = {};
  for (const name of opNames) {
    out[name] = {
      success: (us) => log.push(`${name} ok ${Math.round(us / 1000)}`),
      failure: (code) => log.push(`${name} ${code}`),
    };
  }
  return { sinks: out, log };
}

function env(driverOptions: Omit<FakeDriverOptions, 'clock'> = {}, cut = new AbortController()) {
  const clock = new FakeClock({ startMs: 0 });
  const driver = new FakeDriver({ clock, ...driverOptions });
  const e: CycleEnv = {
    driver,
    clock,
    runId: 'r1',
    scenarioName: 's',
    cutSignal: cut.signal,
    cleanup: { calls: 0, failures: 0, failuresByCode: new Map() },
    logRoot: '/logs',
  };
  return { env: e, driver, clock, cut };
}

describe('cycle', () => {
  it('lists the ops a workload records, in step order, shared pod ops around them', () => {
    expect(workloadOps(workload())).toEqual([
      'run_pod',
      'create',
      'start',
      'stop',
      'remove',
      'stop_pod',
      'remove_pod',
      'cycle',
    ]);
    expect(
      workloadOps(
        workload({ podPerCycle: false, steps: ['create', 'start', { sleep: '1s' }, 'remove'] }),
      ),
    ).toEqual(['run_pod', 'create', 'start', 'remove', 'stop_pod', 'remove_pod', 'cycle']);
  });

  it.each([
    [
      [
        op('run_pod'),
        op('create'),
        op('start'),
        op('stop'),
        op('remove'),
        op('stop_pod'),
        op('remove_pod'),
      ],
      undefined,
    ],
    [[op('run_pod'), op('remove_pod'), op('run_pod'), op('remove_pod')], undefined],
    [[op('pull'), op('list')], undefined],
    [[op('create')], 'needs a pod'],
    [[op('run_pod'), op('start')], 'needs a container'],
    [[op('run_pod'), op('run_pod')], 'already has a pod'],
    [[op('run_pod'), op('create'), op('remove'), op('start')], 'needs a container'],
    [[op('run_pod'), op('remove_pod'), op('create')], 'already removed'],
  ] as const)('checks steps %#', (steps, problem) => {
    const result = checkSteps({ ...workload(), steps });
    if (problem === undefined) expect(result).toBeUndefined();
    else expect(result).toContain(problem);
  });

  it('records every step per container and the cycle from its intended start', async () => {
    const { env: e, clock, driver } = env({ latencyMs: { create: 5, start: 7 } });
    const { sinks: s, log } = sinks();
    const w = workload({
      containersPerPod: 2,
      steps: [
        'run_pod',
        'create',
        'start',
        'status',
        'list',
        'stop',
        'remove',
        'stop_pod',
        'remove_pod',
      ],
    });
    const outcome = await runCycle(e, { workload: w, sharedPods: [] }, s, 1, clock.now() - 30);
    expect(outcome.state).toBe('succeeded');
    expect(log).toEqual([
      'run_pod ok 0',
      'create ok 5',
      'create ok 5',
      'start ok 7',
      'start ok 7',
      'status ok 0',
      'status ok 0',
      'list ok 0',
      'stop ok 0',
      'stop ok 0',
      'remove ok 0',
      'remove ok 0',
      'stop_pod ok 0',
      'remove_pod ok 0',
      'cycle ok 54',
    ]);
    expect(e.cleanup.calls).toBe(0);
    expect(driver.pods.size + driver.containers.size).toBe(0);
  });

  it('cleans up what its steps left, without recording the cleanup', async () => {
    const { env: e, driver } = env();
    const { sinks: s, log } = sinks();
    const w = workload({ steps: ['run_pod', 'create', 'start'] });
    const outcome = await runCycle(e, { workload: w, sharedPods: [] }, s, 1, 0);
    expect(outcome.state).toBe('succeeded');
    expect(log).toEqual(['run_pod ok 0', 'create ok 0', 'start ok 0', 'cycle ok 0']);
    expect(e.cleanup).toMatchObject({ calls: 2, failures: 0 });
    expect(driver.calls.slice(-2).map((c) => c.op)).toEqual(['stop_pod', 'remove_pod']);
    expect(driver.pods.size + driver.containers.size).toBe(0);
  });

  it('a failed step cuts the cycle short and counts as the cycle’s error with its code', async () => {
    const { env: e, driver } = env({
      fail: (o) => (o === 'create' ? 'RESOURCE_EXHAUSTED' : undefined),
    });
    const { sinks: s, log } = sinks();
    const outcome = await runCycle(e, { workload: workload(), sharedPods: [] }, s, 1, 0);
    expect(outcome).toMatchObject({ state: 'failed', op: 'create', code: 'RESOURCE_EXHAUSTED' });
    expect(log).toEqual(['run_pod ok 0', 'create RESOURCE_EXHAUSTED', 'cycle RESOURCE_EXHAUSTED']);
    expect(driver.pods.size).toBe(0);
  });

  it('a cut-off call ends the cycle as cut, records nothing for it, and still cleans up', async () => {
    const cut = new AbortController();
    const { env: e, driver, clock } = env({ latencyMs: { start: 10_000 } }, cut);
    const { sinks: s, log } = sinks();
    void clock.sleep(100).then(() => cut.abort());
    const outcome = await runCycle(e, { workload: workload(), sharedPods: [] }, s, 1, 0);
    expect(outcome.state).toBe('cut');
    expect(log).toEqual(['run_pod ok 0', 'create ok 0']);
    expect(e.cleanup.calls).toBe(2);
    expect(driver.pods.size + driver.containers.size).toBe(0);
  });

  it('uses shared pods round-robin and removes only its own containers', async () => {
    const { env: e, driver } = env();
    const w = workload({ podPerCycle: false, pods: 2, steps: ['create', 'start'] });
    const specs = [0, 1].map((k) => ({ ...e, name: `shared-${k}` }));
    const shared = [];
    for (const spec of specs) {
      const podSpec = {
        name: spec.name,
        uid: spec.name,
        namespace: 'churn',
        attempt: 0,
        labels: {},
        annotations: {},
        hostNetwork: true,
        logDirectory: '',
      };
      shared.push({ id: await driver.runPod(podSpec), spec: podSpec });
    }
    const { sinks: s } = sinks();
    await runCycle(e, { workload: w, sharedPods: shared }, s, 3, 0);
    await runCycle(e, { workload: w, sharedPods: shared }, s, 4, 0);
    const creates = driver.calls.filter((c) => c.op === 'create').map((c) => c.id);
    expect(creates).toEqual(['default-3-c0', 'default-4-c0']);
    expect(driver.pods.size).toBe(2);
    expect(driver.containers.size).toBe(0);
    expect(e.cleanup.calls).toBe(4);
  });
});
