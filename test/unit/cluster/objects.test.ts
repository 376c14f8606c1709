import { describe, expect, it } from 'vitest';
import { churnSelector } from '../../../src/cluster/labels.js';
import {
  labelValue,
  nodeArgs,
  nodeJob,
  scenarioConfigMap,
  type ClusterRunSpec,
} from '../../../src/cluster/objects.js';
import { podScenarioYaml } from '../../../src/cluster/pod-scenario.js';
import { isChurnError } from '../../../src/common/errors.js';
import { scenarioSchema } from '../../../src/scenario/schema.js';

const spec: ClusterRunSpec = {
  runId: 'abc12',
  namespace: 'churn',
  nodes: ['node-a', '127.0.0.1'],
  image: 'localhost/churn/churn:local',
  imagePullPolicy: 'Never',
  scenarioYaml: 'name: x\n',
  startAt: '2026-12-06T10:00:00.000Z',
  socketHostPath: '/run/containerd/containerd.sock',
  socketMountPath: '/run/churn/runtime.sock',
  hostNetwork: true,
  extraArgs: ['--duration', '6s'],
};

describe('cluster run objects', () => {
  it('pins one Job per node, every pod told the same instant and a run id of its own', () => {
    const jobs = spec.nodes.map((_, i) => nodeJob(spec, i));
    const pods = jobs.map(
      (j) => (j as { spec: { template: { spec: Record<string, unknown> } } }).spec.template.spec,
    );
    expect(pods.map((p) => p['nodeName'])).toEqual(['node-a', '127.0.0.1']);
    for (const [i] of spec.nodes.entries()) {
      const args = nodeArgs(spec, i);
      expect(args.slice(args.indexOf('--start-at'), args.indexOf('--start-at') + 2)).toEqual([
        '--start-at',
        spec.startAt,
      ]);
      expect(args[args.indexOf('--run-id') + 1]).toBe(`abc12-${i}`);
      expect(args.slice(-2)).toEqual(['--duration', '6s']);
    }
    expect(pods[0]!['restartPolicy']).toBe('Never');
    expect(pods[0]!['automountServiceAccountToken']).toBe(false);
  });

  it('labels everything so cleanup finds it by run, and node names become valid label values', () => {
    const cm = scenarioConfigMap(spec) as { metadata: { labels: Record<string, string> } };
    expect(cm.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'churn',
      'churn/run': 'abc12',
    });
    expect(churnSelector('abc12')).toBe('app.kubernetes.io/managed-by=churn,churn/run=abc12');
    expect(labelValue('127.0.0.1')).toBe('127.0.0.1');
    expect(labelValue('node:a/b')).toBe('node_a_b');
    expect(labelValue('-x-')).toBe('x');
  });
});

describe('podScenarioYaml', () => {
  const text = '# keep me\nname: n\ntarget:\n  driver: containerd\n  address: /x.sock # here\n';
  it("points the native driver at the pod's socket, keeping the rest", () => {
    const scenario = scenarioSchema.parse({
      name: 'n',
      target: { driver: 'containerd', address: '/x.sock' },
    });
    const out = podScenarioYaml(text, scenario, '/run/churn/runtime.sock');
    expect(out).toContain('# keep me');
    expect(out).toContain('address: /run/churn/runtime.sock');
  });

  it('refuses the builtin driver with USAGE', () => {
    const scenario = scenarioSchema.parse({ name: 'n' });
    let error: unknown;
    try {
      podScenarioYaml('name: n\n', scenario, '/s');
    } catch (err) {
      error = err;
    }
    expect(isChurnError(error) && error.code).toBe('USAGE');
  });
});
