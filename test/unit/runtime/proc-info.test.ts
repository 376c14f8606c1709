import { describe, expect, it } from 'vitest';
import { parseProcStat } from '../../../src/runtime/proc-info.js';

describe('parseProcStat', () => {
  it('reads state, group, start time, CPU and RSS, even with spaces and parentheses in the name', () => {
    const fields = [
      'S',
      '1',
      '4242',
      '4242',
      '0',
      '-1',
      '4194560',
      '100',
      '0',
      '0',
      '0',
      '150',
      '50',
      '7',
      '3',
      '20',
      '0',
      '1',
      '0',
      '987654',
      '1000000',
      '300',
    ];
    const text = `4242 (my (odd) name) ${fields.join(' ')} 0 0 0\n`;
    expect(parseProcStat(text)).toEqual({
      state: 'S',
      ppid: 1,
      pgrp: 4242,
      startTime: '987654',
      cpuNs: 2_100_000_000n,
      rssBytes: 300 * 4096,
    });
    expect(parseProcStat('garbage')).toBeUndefined();
  });
});
