// Every scenario in scenarios/ loads, is documented at its top, runs against the core and
// against containerd with only --driver/--endpoint changed, and does what its name says.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultScenario, defaultScenarioPath } from '../../../src/scenario/default-scenario.js';
import { loadScenarioFile } from '../../../src/scenario/load.js';
import { defaultSteps, type Scenario, type Step } from '../../../src/scenario/schema.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const shipped = [
  'exec-heavy.yaml',
  'lifecycle-closed.yaml',
  'lifecycle-open-ramp.yaml',
  'mixed-workloads.yaml',
  'pod-density.yaml',
  'smoke.yaml',
  'soak-compressed.yaml',
  'soak-nightly.yaml',
];
/** Scenarios for containerd's native API (driver containerd), not for the core or CRI. */
const nativeShipped = ['containerd-stress.yaml'];
const containerd = { driver: 'cri', endpoint: 'unix:///run/containerd/containerd.sock' };
/** Programs both the host (coreutils, /bin/sh) and busybox have. */
const portablePrograms = new Set(['sleep', 'true', 'echo', 'sh']);

function load(file: string, overrides = {}): Promise<Scenario> {
  return loadScenarioFile(`scenarios/${file}`, overrides, { cwd: root });
}

function totalMs(s: Scenario): number {
  return s.load.phases.reduce((sum, p) => sum + p.durationMs, 0);
}

function execSteps(s: Scenario): Extract<Step, { kind: 'exec' }>[] {
  return s.workloads.flatMap((w) => w.steps.filter((st) => st.kind === 'exec'));
}

describe('shipped scenarios', () => {
  it('are exactly the documented set', () => {
    expect(readdirSync(join(root, 'scenarios')).sort()).toEqual(
      [...shipped, ...nativeShipped].sort(),
    );
  });

  it("containerd-stress: containerd-stress's cycle over the native driver, documented", async () => {
    const text = readFileSync(join(root, 'scenarios', 'containerd-stress.yaml'), 'utf8');
    expect(text.split('\n')[0]).toBe(
      '# yaml-language-server: $schema=../schema/scenario.schema.json',
    );
    expect(text).toContain('churn run scenarios/containerd-stress.yaml');
    expect(text).toContain('scripts/containerd.sh import-native');
    const s = await load('containerd-stress.yaml');
    expect(s.target).toMatchObject({ driver: 'containerd', namespace: 'churn-native' });
    expect(s.workloads).toHaveLength(1);
    expect(s.workloads[0]!.command).toEqual(['true']);
    expect(s.workloads[0]!.steps.map((st) => (st.kind === 'op' ? st.op : st.kind))).toEqual([
      'create',
      'start',
      'stop',
      'remove',
    ]);
  });

  describe.each(shipped)('%s', (file) => {
    const text = readFileSync(join(root, 'scenarios', file), 'utf8');

    it('starts with the schema reference and documents itself and how to run it', () => {
      const lines = text.split('\n');
      expect(lines[0]).toBe('# yaml-language-server: $schema=../schema/scenario.schema.json');
      const header = lines.slice(
        1,
        lines.findIndex((l) => !l.startsWith('#')),
      );
      const prose = header.join('\n');
      expect(prose).toContain(`# ${file.replace('.yaml', '')}: `);
      expect(prose).toContain('What it exercises:');
      expect(prose).toContain(`churn run scenarios/${file}`);
      expect(prose).toContain('--driver cri');
      expect(prose).toContain('--endpoint unix:///run/containerd/containerd.sock');
    });

    it('loads against the core, named after itself', async () => {
      const s = await load(file);
      expect(s.name).toBe(file.replace('.yaml', ''));
      expect(s.target.driver).toBe('builtin');
      expect(s.workloads.every((w) => w.image === 'host')).toBe(true);
    });

    it('loads against containerd with only --driver and --endpoint changed', async () => {
      const s = await load(file, containerd);
      expect(s.target).toMatchObject(containerd);
      expect(s.workloads.every((w) => w.image === 'docker.io/library/busybox:latest')).toBe(true);
    });

    it('runs only commands both the host and busybox have', async () => {
      const s = await load(file);
      const programs = [
        ...s.workloads.map((w) => w.command[0]),
        ...execSteps(s).map((st) => st.command[0]),
      ];
      for (const program of programs) expect(portablePrograms).toContain(program);
    });
  });

  it('smoke: about 10 s, closed loop at 2, the default 7-step cycle, no error allowed', async () => {
    const s = await load('smoke.yaml');
    expect(s.load.phases).toEqual([
      {
        kind: 'closed',
        name: 'smoke',
        durationMs: 10_000,
        concurrency: 2,
        rampTo: 2,
        record: true,
        iterationsPerWorker: undefined,
      },
    ]);
    expect(s.workloads).toHaveLength(1);
    expect(s.workloads[0]!.steps).toEqual(defaultSteps.map((op) => ({ kind: 'op', op })));
    expect(s.thresholds.map((t) => t.expr)).toEqual([
      {
        source: 'error_rate == 0',
        metric: 'error_rate',
        op: undefined,
        comparator: '==',
        value: 0,
      },
    ]);
  });

  it('lifecycle-closed: closed loop only, with a warm-up and a ramp of workers', async () => {
    const s = await load('lifecycle-closed.yaml');
    expect(s.load.phases.every((p) => p.kind === 'closed')).toBe(true);
    expect(s.load.phases.some((p) => p.kind === 'closed' && !p.record)).toBe(true);
    expect(s.load.phases.some((p) => p.kind === 'closed' && p.rampTo > p.concurrency)).toBe(true);
  });

  it('lifecycle-open-ramp: open loop with a ramp and a bound on in-flight cycles', async () => {
    const s = await load('lifecycle-open-ramp.yaml');
    expect(s.load.phases.some((p) => p.kind === 'open' && p.rampTo > p.arrivalRate)).toBe(true);
    expect(s.load.phases.every((p) => p.kind !== 'closed')).toBe(true);
    expect(s.load.maxInflight).toBeLessThan(256);
    expect(s.thresholds.some((t) => t.expr.metric === 'dropped')).toBe(true);
  });

  it('pod-density: many containers per pod', async () => {
    const s = await load('pod-density.yaml');
    expect(s.workloads[0]!.containersPerPod).toBeGreaterThanOrEqual(8);
  });

  it('exec-heavy: several execs per cycle, one expecting a non-zero exit code', async () => {
    const s = await load('exec-heavy.yaml');
    const execs = execSteps(s);
    expect(execs.length).toBeGreaterThanOrEqual(3);
    expect(execs.some((st) => st.expectExitCode !== 0)).toBe(true);
  });

  it('mixed-workloads: several workloads of different weights and steps', async () => {
    const s = await load('mixed-workloads.yaml');
    expect(s.workloads.length).toBeGreaterThanOrEqual(3);
    expect(new Set(s.workloads.map((w) => w.weight)).size).toBeGreaterThan(1);
    expect(new Set(s.workloads.map((w) => JSON.stringify(w.steps))).size).toBe(s.workloads.length);
    expect(s.seed).toBeDefined();
  });

  it('soak-nightly: hours long, with everything bounded', async () => {
    const s = await load('soak-nightly.yaml');
    expect(totalMs(s)).toBeGreaterThanOrEqual(3_600_000);
    expect(s.load.maxInflight).toBeLessThanOrEqual(256);
    expect(s.load.iterations).toBeDefined();
    expect(s.load.drainTimeoutMs).toBeLessThanOrEqual(120_000);
    expect(s.target.callTimeout).toBeLessThanOrEqual(60_000);
    expect(execSteps(s).every((st) => st.timeoutMs <= 60_000)).toBe(true);
    expect(s.thresholds.filter((t) => t.abortOnFail).length).toBeGreaterThanOrEqual(2);
    expect(s.report.intervalMs).toBeGreaterThanOrEqual(1000);
  });

  it('soak-compressed: a million operations of the full cycle, then zero errors and zero leaks', async () => {
    const s = await load('soak-compressed.yaml');
    const [w] = s.workloads;
    expect(s.workloads).toHaveLength(1);
    expect(w!.steps).toEqual(defaultSteps.map((op) => ({ kind: 'op', op })));
    expect(w!.containersPerPod).toBe(1);
    // Each cycle is 7 operations; the cap, not the (bounding) phase, ends the run.
    expect(s.load.iterations! * w!.steps.length).toBeGreaterThanOrEqual(1_000_000);
    expect(s.load.iterations! * w!.steps.length).toBeLessThan(1_000_007);
    expect(s.load.phases).toHaveLength(1);
    expect(s.load.phases[0]).toMatchObject({ kind: 'closed', concurrency: 16, record: true });
    expect(s.leaks.checkIntervalMs).toBeGreaterThan(0);
    expect(s.thresholds.map((t) => t.expr.source).sort()).toEqual([
      'error_rate == 0',
      'leaked_containers == 0',
      'leaked_mounts == 0',
      'leaked_pods == 0',
      'leaked_processes == 0',
    ]);
  });

  it('soak-nightly: --duration shortens it for a rehearsal, keeping its shape', async () => {
    const s = await load('soak-nightly.yaml', { duration: '10m' });
    expect(totalMs(s)).toBe(600_000);
    expect(s.load.phases.map((p) => p.kind)).toEqual(['open', 'open']);
  });
});

describe('the built-in default scenario', () => {
  it('is scenarios/smoke.yaml itself', async () => {
    expect(defaultScenarioPath()).toBe(join(root, 'scenarios', 'smoke.yaml'));
    expect(await defaultScenario()).toEqual(await load('smoke.yaml'));
  });

  it('takes overrides like any other', async () => {
    const s = await defaultScenario({ driver: 'cri', duration: '2s' });
    expect(s.target.driver).toBe('cri');
    expect(s.load.phases[0]!.durationMs).toBe(2000);
  });
});
