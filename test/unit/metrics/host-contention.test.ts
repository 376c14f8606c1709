import { describe, expect, it } from 'vitest';
import {
  contentionBetween,
  parseHostCpu,
  parseLoadAvg,
  type HostCpuTicks,
} from '../../../src/metrics/host-contention.js';

describe('parseLoadAvg', () => {
  it.each([
    ['0.52 0.58 0.59 1/389 12345\n', 0.52],
    ['12.00 3.1 1 4/900 7', 12],
    ['', undefined],
    ['garbage 1 2', undefined],
  ])('%j → %j', (text, expected) => {
    expect(parseLoadAvg(text)).toBe(expected);
  });
});

describe('parseHostCpu', () => {
  it('sums busy (user nice system irq softirq), steal and the total through steal', () => {
    // user nice system idle iowait irq softirq steal guest guest_nice
    const text = 'cpu  100 5 50 1000 20 3 2 7 40 0\ncpu0 50 2 25 500 10 1 1 3 20 0\nintr 1 2\n';
    expect(parseHostCpu(text)).toEqual({ busy: 160, steal: 7, total: 1187 });
  });

  it('reads an old kernel without steal', () => {
    expect(parseHostCpu('cpu 10 0 10 80\n')).toEqual({ busy: 20, steal: 0, total: 100 });
  });

  it.each(['', 'cpu0 1 2 3 4\n', 'cpu a b c d\n', 'cpu 1 2\n'])('%j → undefined', (text) => {
    expect(parseHostCpu(text)).toBeUndefined();
  });
});

describe('contentionBetween', () => {
  const cpu = (busy: number, steal: number, total: number): HostCpuTicks => ({
    busy,
    steal,
    total,
  });
  const at = (
    host: HostCpuTicks | undefined,
    churnSeconds: number,
    targetSeconds: number | undefined,
    load1: number | undefined = 1.5,
  ) => ({ host: { load1, cpu: host }, cpu: { churnSeconds, targetSeconds } });

  // 2 cores, 1 s, 100 ticks/s: 200 ticks of host time.
  it.each([
    {
      name: 'other = busy − churn − target, as % of the whole host',
      before: at(cpu(0, 0, 0), 10, 5),
      after: at(cpu(150, 0, 200), 10.5, 5.4),
      expected: { load1: 1.5, stealPct: 0, otherCpuPct: 30 },
    },
    {
      name: 'steal as % of the host time',
      before: at(cpu(0, 0, 0), 0, 0),
      after: at(cpu(20, 10, 200), 0.1, 0.1),
      expected: { load1: 1.5, stealPct: 5, otherCpuPct: 0 },
    },
    {
      name: 'clamped at 0 when churn and the target read more than the host did',
      before: at(cpu(0, 0, 0), 0, 0),
      after: at(cpu(10, 0, 200), 0.2, 0.1),
      expected: { load1: 1.5, stealPct: 0, otherCpuPct: 0 },
    },
    {
      name: 'a target whose CPU dropped (a shim exited) counts 0, not negative',
      before: at(cpu(0, 0, 0), 0, 9),
      after: at(cpu(100, 0, 200), 0.5, 1),
      expected: { load1: 1.5, stealPct: 0, otherCpuPct: 25 },
    },
    {
      name: 'target unknown: no other-CPU, steal still known',
      before: at(cpu(0, 0, 0), 0, undefined),
      after: at(cpu(100, 4, 200), 0.5, 1),
      expected: { load1: 1.5, stealPct: 2, otherCpuPct: undefined },
    },
    {
      name: '/proc/stat unreadable: only the load',
      before: at(undefined, 0, 0),
      after: at(cpu(100, 0, 200), 0.5, 1, 0.25),
      expected: { load1: 0.25, stealPct: undefined, otherCpuPct: undefined },
    },
    {
      name: 'no host time between the samples: nothing but the load',
      before: at(cpu(100, 0, 200), 0, 0),
      after: at(cpu(100, 0, 200), 0, 0),
      expected: { load1: 1.5, stealPct: undefined, otherCpuPct: undefined },
    },
  ])('$name', ({ before, after, expected }) => {
    const got = contentionBetween(before, after, 100);
    expect(got.load1).toBe(expected.load1);
    if (expected.stealPct === undefined) expect(got.stealPct).toBeUndefined();
    else expect(got.stealPct).toBeCloseTo(expected.stealPct, 9);
    if (expected.otherCpuPct === undefined) expect(got.otherCpuPct).toBeUndefined();
    else expect(got.otherCpuPct).toBeCloseTo(expected.otherCpuPct, 9);
  });
});
