import { describe, expect, it } from 'vitest';
import {
  describeVerdict,
  judgeCritest,
  parseGinkgoReport,
  type ExpectedFailure,
  type SpecResult,
} from '../../support/critest-report.js';
import { critestExpectedFailures } from '../../e2e/critest-expectations.js';

const report = JSON.stringify([
  {
    SpecReports: [
      { LeafNodeType: 'BeforeSuite', State: 'passed' },
      {
        ContainerHierarchyTexts: ['[k8s.io] Image Manager'],
        LeafNodeType: 'It',
        LeafNodeText: 'pulls',
        State: 'passed',
      },
      {
        ContainerHierarchyTexts: ['[k8s.io] Container', 'runtime should'],
        LeafNodeType: 'It',
        LeafNodeText: 'remove running',
        State: 'failed',
        Failure: { Message: 'rpc error\nline 2\nline 3\nline 4\nline 5' },
      },
      { ContainerHierarchyTexts: null, LeafNodeType: 'It', LeafNodeText: 'x', State: 'skipped' },
    ],
  },
]);

describe('parseGinkgoReport', () => {
  it('keeps the It specs with their full text, state and the first lines of the failure', () => {
    expect(parseGinkgoReport(report)).toEqual([
      { name: '[k8s.io] Image Manager pulls', state: 'passed', message: '' },
      {
        name: '[k8s.io] Container runtime should remove running',
        state: 'failed',
        message: 'rpc error line 2 line 3 line 4',
      },
      { name: 'x', state: 'skipped', message: '' },
    ]);
  });
});

describe('judgeCritest', () => {
  const specs: SpecResult[] = [
    { name: 'a', state: 'passed', message: '' },
    { name: 'b', state: 'failed', message: 'boom' },
    { name: 'c', state: 'failed', message: 'bang' },
    { name: 'd', state: 'timedout', message: 'slow' },
    { name: 'e', state: 'skipped', message: '' },
  ];
  const expected: ExpectedFailure[] = [
    { spec: 'a', on: ['runc'], reason: 'r' },
    { spec: 'b', on: ['runc', 'process'], reason: 'r' },
    { spec: 'c', on: ['process'], reason: 'r' },
    { spec: 'e', on: ['runc'], reason: 'r' },
    { spec: 'gone', on: ['runc'], reason: 'r' },
  ];

  it('finds unlisted failures, listed passes and listed specs that did not run', () => {
    const v = judgeCritest(specs, expected, 'runc');
    expect(v.passed).toBe(1);
    expect(v.failed).toBe(3);
    expect(v.unexpectedFailures.map((s) => s.name)).toEqual(['c', 'd']);
    expect(v.unexpectedPasses).toEqual(['a']);
    expect(v.notRun).toEqual(['e', 'gone']);
    const text = describeVerdict('runc', v);
    expect(text).toContain('1 passed, 3 failed');
    expect(text).toContain("remove 'runc' from its entry): a");
    expect(text).toContain('fix): d');
  });

  it('accepts either outcome where a spec varies, and still wants it run', () => {
    const varying: ExpectedFailure[] = [
      { spec: 'a', on: [], varies: ['runc'], reason: 'r' },
      { spec: 'b', on: ['process'], varies: ['runc'], reason: 'r' },
      { spec: 'gone', on: [], varies: ['runc'], reason: 'r' },
    ];
    const v = judgeCritest(specs.slice(0, 2), varying, 'runc');
    expect(v.unexpectedFailures).toEqual([]);
    expect(v.unexpectedPasses).toEqual([]);
    expect(v.notRun).toEqual(['gone']);
  });

  it('matches exactly when only listed specs fail', () => {
    const v = judgeCritest(specs.slice(0, 3), expected.slice(0, 3), 'process');
    expect(v.unexpectedFailures).toEqual([]);
    expect(v.unexpectedPasses).toEqual([]);
    expect(v.notRun).toEqual([]);
  });
});

describe('the expected-failure list', () => {
  it('names each spec once, on at least one target, with a reason', () => {
    const names = critestExpectedFailures.map((e) => e.spec);
    expect(new Set(names).size).toBe(names.length);
    for (const e of critestExpectedFailures) {
      const targets = [...e.on, ...(e.varies ?? [])];
      expect(targets.length, e.spec).toBeGreaterThan(0);
      expect(new Set(targets).size, e.spec).toBe(targets.length);
      expect(e.reason.length, e.spec).toBeGreaterThan(40);
      expect(e.reason, e.spec).not.toMatch(/measured on main|placeholder|TODO/i);
    }
  });
});
