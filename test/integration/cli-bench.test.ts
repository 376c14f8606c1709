// `churn bench`: a concurrency sweep against the built-in core.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/core-fixtures.js';
import { runChurn } from '../support/churn-process.js';

describe('churn bench', () => {
  it('runs each level and reports cycles/s and latency per level', async () => {
    const dir = await tempDir();
    const { code, stdout } = await runChurn(
      ['bench', '--levels', '1,3', '--step-duration', '1s', '-o', 'levels.json'],
      dir,
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\s+1\s+\d+\s+0\s/m);
    expect(stdout).toMatch(/^\s+3\s+\d+\s+0\s/m);
    expect(stdout).toMatch(/most cycles\/s at concurrency [13]/);
    const written = JSON.parse(await readFile(join(dir, 'levels.json'), 'utf8')) as {
      levels: { concurrency: number; cycles: number; cyclesPerSec: number; cycleP99Ms: number }[];
    };
    expect(written.levels.map((l) => l.concurrency)).toEqual([1, 3]);
    for (const level of written.levels) {
      expect(level.cycles).toBeGreaterThan(0);
      expect(level.cyclesPerSec).toBeGreaterThan(0);
      expect(level.cycleP99Ms).toBeGreaterThan(0);
    }
  });

  it('refuses bad levels with exit 2', async () => {
    const dir = await tempDir();
    const { code, stderr } = await runChurn(['bench', '--levels', '1,zero'], dir);
    expect(code).toBe(2);
    expect(stderr).toContain('--levels');
  });
});
