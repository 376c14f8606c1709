// parseScenario: YAML in, a resolved Scenario or every problem with its file:line:column out.
import { describe, expect, it } from 'vitest';
import {
  formatProblem,
  nameFromSource,
  parseScenario,
  ScenarioError,
  type ScenarioProblem,
} from '../../../src/scenario/load.js';
import { defaultSteps } from '../../../src/scenario/schema.js';

/** The problems parsing `text` gives, as `line:column path: message`. */
function problems(text: string, source = 'x.yaml'): string[] {
  try {
    parseScenario(text, source);
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    return err.problems.map((p) => formatProblem(p).slice(`${source}:`.length));
  }
  throw new Error('accepted');
}

function error(text: string, source = 'x.yaml'): ScenarioError {
  try {
    parseScenario(text, source);
  } catch (err) {
    if (err instanceof ScenarioError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('parseScenario: defaults', () => {
  it('resolves a one-line file into a complete scenario', () => {
    const s = parseScenario('description: tiny\n', 'scenarios/tiny.yaml');
    expect(s.name).toBe('tiny');
    expect(s.target).toMatchObject({
      driver: 'builtin',
      executor: 'process',
      callTimeout: 120_000,
    });
    expect(s.load.phases).toEqual([
      {
        kind: 'closed',
        name: 'phase-1',
        durationMs: 10_000,
        concurrency: 2,
        rampTo: 2,
        record: true,
        iterationsPerWorker: undefined,
      },
    ]);
    expect(s.load).toMatchObject({
      maxInflight: 256,
      iterations: undefined,
      drainTimeoutMs: 30_000,
    });
    expect(s.workloads).toHaveLength(1);
    expect(s.workloads[0]).toMatchObject({
      name: 'default',
      weight: 1,
      image: 'host',
      command: ['sleep', '3600'],
      podPerCycle: true,
      containersPerPod: 1,
      stopTimeoutMs: 0,
      hostNetwork: true,
    });
    expect(s.workloads[0]!.steps).toEqual(defaultSteps.map((op) => ({ kind: 'op', op })));
    expect(s.thresholds).toEqual([]);
    expect(s.report).toEqual({
      dir: 'reports',
      labels: {},
      intervalMs: 1000,
      checkpointIntervalMs: 0,
    });
    expect(s.faults).toEqual({});
  });

  it('defaults the image by driver', () => {
    const s = parseScenario('target: { driver: cri }\n', 'x.yaml');
    expect(s.workloads[0]!.image).toBe('docker.io/library/busybox:latest');
  });

  it('names the scenario after its file unless it has a name', () => {
    expect(parseScenario('name: given\n', 'a/b/other.yaml').name).toBe('given');
    expect(parseScenario('description: d\n', 'a/b/My Test.v2.yml').name).toBe('my-test.v2');
    expect(nameFromSource('__.yaml')).toBe('scenario');
    expect(nameFromSource('/tmp/Soak_Nightly.YAML')).toBe('soak_nightly');
  });
});

describe('parseScenario: where problems point', () => {
  it('points at an unknown key itself, with a did-you-mean from the schema', () => {
    expect(problems('target:\n  driver: cri\n  endpiont: unix:///x.sock\n')).toEqual([
      '3:3 target.endpiont: unknown key (did you mean "endpoint"?)',
    ]);
  });

  it('points at a malformed endpoint, with the rule the CRI client connects by', () => {
    expect(problems('target:\n  driver: cri\n  endpoint: http://localhost:1234\n')).toEqual([
      '3:13 target.endpoint: "http://localhost:1234": unsupported scheme; use unix:///absolute/path.sock (or unix:/path, or the bare absolute path), or tcp://127.0.0.1:PORT',
    ]);
    expect(problems('target: { endpoint: "tcp://10.0.0.1:10010" }\n')).toEqual([
      '1:21 target.endpoint: "tcp://10.0.0.1:10010": 10.0.0.1 is not a loopback address (churn never leaves this machine); use unix:///absolute/path.sock (or unix:/path, or the bare absolute path), or tcp://127.0.0.1:PORT',
    ]);
  });

  it.each([
    'unix:///run/x.sock',
    'unix:/run/x.sock',
    '/run/x.sock',
    'tcp://127.0.0.1:1',
    '[::1]:9',
  ])('accepts the endpoint %s', (endpoint) => {
    const s = parseScenario(`target: { driver: cri, endpoint: "${endpoint}" }\n`, 'x.yaml');
    expect(s.target.endpoint).toBe(endpoint);
  });

  it('lists the allowed keys when no key is close', () => {
    expect(problems('report:\n  colour: blue\n')).toEqual([
      '2:3 report.colour: unknown key: use one of dir, labels, interval, checkpointInterval',
    ]);
  });

  it('points at the mapping a required key is missing from', () => {
    expect(problems('faults:\n  start:\n    latency:\n      stddev: 5ms\n')).toEqual([
      '4:7 faults.start.latency.mean: is required',
    ]);
  });

  it('points at the value for a bad value, in block and flow style', () => {
    expect(problems('load:\n  phases: [{ duration: 10s, concurrency: -1 }]\n')).toEqual([
      '2:42 load.phases[0].concurrency: must be ≥ 1',
    ]);
  });

  it('follows aliases to the value they stand for', () => {
    const text = 'phase: &p { duration: 1s }\nload:\n  phases: [*p]\n';
    expect(problems(text)).toEqual([
      '1:1 phase: unknown key: use one of $schema, name, description, target, faults, seed, workload, workloads, load, thresholds, integrity, leaks, report',
      '1:11 load.phases[0]: a phase needs concurrency (closed loop), arrivalRate (open loop) or pause',
    ]);
  });

  it('ignores top-level x- keys, a home for anchors, and merges with <<', () => {
    const text = [
      'x-base: &base { duration: 5s, concurrency: 2 }',
      'load:',
      '  phases:',
      '    - <<: *base',
      '      name: first',
      '    - <<: *base',
      '      concurrency: 0',
    ].join('\n');
    expect(problems(text)).toEqual(['7:20 load.phases[1].concurrency: must be ≥ 1']);
    const s = parseScenario(text.replace('concurrency: 0', 'concurrency: 3'), 'x.yaml');
    expect(
      s.load.phases.map((p) => [p.name, p.durationMs, p.kind === 'closed' && p.concurrency]),
    ).toEqual([
      ['first', 5000, 2],
      ['phase-2', 5000, 3],
    ]);
  });

  it('reports every problem of the file at once, in file order', () => {
    const text = [
      'name: Bad Name', // 1
      'target: { driver: crio }', // 2
      'load:', // 3
      '  phases:', // 4
      '    - { duration: 0s, concurrency: 1 }', // 5
      '    - { duration: 5s, arrivalRate: 2, rampTo: -1 }', // 6
      'thresholds: ["p99(start) < 1 sec"]', // 7
    ].join('\n');
    expect(problems(text)).toEqual([
      '1:7 name: must be 1–63 of a-z 0-9 _ . - starting with a letter or digit',
      '2:19 target.driver: unknown value "crio" (did you mean "cri"?): use one of builtin, cri, containerd',
      '5:19 load.phases[0].duration: must be more than 0 (e.g. 30s)',
      '6:47 load.phases[1].rampTo: must be ≥ 0',
      '7:14 thresholds[0]: threshold "p99(start) < 1 sec": "1 sec" has an unknown unit "sec": use us, ms, s, m or h (did you mean "1s"?)',
    ]);
  });
});

describe('parseScenario: unions are reported as the branch the value was meant for', () => {
  it('a threshold string gets the threshold parser’s message', () => {
    expect(problems('thresholds: ["p99(cycle) < fast"]\n')).toEqual([
      '1:14 thresholds[0]: threshold "p99(cycle) < fast": "fast" is not a duration: use a number and a unit, ms, s, m or h (e.g. 250ms, 30s)',
    ]);
  });

  it('a threshold mapping gets the mapping’s messages', () => {
    expect(problems('thresholds:\n  - threshold: dropped == 0\n    abortOnFial: true\n')).toEqual([
      '3:5 thresholds[0].abortOnFial: unknown key (did you mean "abortOnFail"?)',
    ]);
  });

  it('a value of neither type says which types are allowed', () => {
    expect(problems('thresholds: [[1]]\n')).toEqual([
      '1:14 thresholds[0]: expected a string or a mapping, got a list',
    ]);
  });

  it('a step mapping is matched to the step it names', () => {
    const steps = '[run_pod, create, start, { sleep: 1 }, { exec: { command: [] } }, stop]';
    expect(problems(`workload:\n  steps: ${steps}\n`)).toEqual([
      '2:44 workload.steps[3].sleep: 1 has no unit: write e.g. 1s or 1ms',
      '2:68 workload.steps[4].exec.command: must not be empty',
    ]);
  });

  it('a step mapping with two step keys says a step has exactly one', () => {
    const message =
      'a step has exactly one key, but this one has 2: sleep, exec (write each as a step of its own)';
    expect(
      problems('workload:\n  steps: [run_pod, { sleep: 5ms, exec: { command: [x] } }]\n'),
    ).toEqual([`2:20 workload.steps[1]: ${message}`]);
    // Also when one of the two is malformed, and in a block mapping of a named workload.
    expect(
      problems(
        'workloads:\n  - name: w\n    steps:\n      - run_pod\n      - sleep: 5ms\n        exec: { command: [true] }\n',
      ),
    ).toEqual([`5:9 workloads[0].steps[1]: ${message}`]);
    // One step key and an unknown one is an unknown key, as before.
    expect(problems('workload:\n  steps: [run_pod, { sleep: 5ms, slep: 1 }]\n')).toEqual([
      '2:34 workload.steps[1].slep: unknown key (did you mean "sleep"?)',
    ]);
  });

  it('an unknown step name gets a did-you-mean', () => {
    expect(problems('workload:\n  steps: [run_pod, craete]\n')).toEqual([
      '2:20 workload.steps[1]: unknown value "craete" (did you mean "create"?): use one of pull, run_pod, create, start, exec, status, list, stop, remove, stop_pod, remove_pod',
    ]);
  });

  it('never says just "Invalid input"', () => {
    const texts = [
      'faults: { start: { latency: true } }',
      'faults: { start: { errorRate: [1] } }',
      'workload: { steps: [7] }',
      'thresholds: [null]',
    ];
    for (const text of texts) {
      for (const line of problems(text)) expect(line).not.toMatch(/Invalid input/);
    }
  });
});

describe('parseScenario: YAML itself', () => {
  it('reports syntax errors with their position and stops there', () => {
    // bogus: 1 is not reported: after a syntax error the keys are not checked.
    expect(problems('name: x\nload: { phases: [ }\nbogus: 1\n')).toEqual([
      '2:19 YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
      '2:20 YAML: Flow map in block collection must be sufficiently indented and end with a }',
    ]);
  });

  it('refuses duplicate keys, naming the first', () => {
    expect(problems('name: a\nseed: 1\nname: b\n')).toEqual([
      '3:1 name: duplicate key (first written at line 1)',
    ]);
  });

  it('refuses several documents in one file, pointing at where the second starts', () => {
    const oneDocument =
      'a scenario file holds one YAML document, but a second one starts here: remove it, or put each scenario in a file of its own';
    expect(problems('name: a\n---\nname: b\n')).toEqual([`2:1 ${oneDocument}`]);
    expect(problems('# c\n---\nname: a\nseed: 1\n---\n')).toEqual([`5:1 ${oneDocument}`]);
    expect(problems('name: a\n...\nseed: 1\n')).toEqual([`3:1 ${oneDocument}`]);
  });

  it('refuses an empty file and a root that is not a mapping', () => {
    expect(problems('# nothing\n')).toEqual([
      '1:1 the file is empty: a scenario is a mapping of keys (see docs/scenarios.md)',
    ]);
    expect(problems('just text\n')).toEqual(['1:1 expected a mapping, got the string "just text"']);
  });

  it('refuses a file that expands aliases without bound', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) {
      lines.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(', ')}]`,
      );
    }
    expect(problems(lines.join('\n'))[0]).toMatch(/^1:1 .*alias/i);
  });
});

describe('ScenarioError', () => {
  it('has code SCENARIO_INVALID and a message that names the file on every line', () => {
    const err = error('seed: -1\nreport: { dir: "" }\n', 'scenarios/s.yaml');
    expect(err.code).toBe('SCENARIO_INVALID');
    expect(err.message).toBe(
      [
        'scenarios/s.yaml: 2 problems',
        '  scenarios/s.yaml:1:7 seed: must be ≥ 0',
        '  scenarios/s.yaml:2:16 report.dir: must not be empty',
      ].join('\n'),
    );
  });

  it('is a single line for a single problem', () => {
    expect(error('seed: -1\n', 's.yaml').message).toBe('s.yaml:1:7 seed: must be ≥ 0');
  });

  it('formats a problem from a flag with the flag instead of a position', () => {
    const problem: ScenarioProblem = {
      source: 's.yaml',
      line: undefined,
      column: undefined,
      flag: '--concurrency',
      path: 'load.phases[0].concurrency',
      message: 'must be ≥ 1',
    };
    expect(formatProblem(problem)).toBe('--concurrency load.phases[0].concurrency: must be ≥ 1');
  });
});
