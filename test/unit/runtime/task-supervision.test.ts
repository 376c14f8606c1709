import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../../src/runtime/executors/task-supervision.js';

describe('exitCodeOf', () => {
  it.each([
    [0, null, 0],
    [3, null, 3],
    [255, null, 255],
    [null, 'SIGTERM', 143],
    [null, 'SIGKILL', 137],
    [null, 'SIGINT', 130],
    [null, 'SIGSEGV', 139],
  ] as const)('exit code %s, signal %s → %i', (code, signal, expected) => {
    expect(exitCodeOf(code, signal)).toBe(expected);
  });

  it("uses the platform's signal numbers", () => {
    expect(exitCodeOf(null, 'SIGWINCH')).toBe(128 + 28); // Linux
  });
});
