import { describe, expect, it } from 'vitest';
import { formatLogTimestamp } from '../../../src/runtime/executors/cri-log-writer.js';

describe('formatLogTimestamp', () => {
  it.each([
    [0n, '1970-01-01T00:00:00.000000000Z'],
    [1_700_000_000_123_456_789n, '2023-11-14T22:13:20.123456789Z'],
    [1_700_000_000_000_000_001n, '2023-11-14T22:13:20.000000001Z'],
  ])('%s ns → %s', (ns, text) => {
    expect(formatLogTimestamp(ns)).toBe(text);
  });
});
