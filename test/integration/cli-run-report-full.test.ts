// A report dir that cannot take the report (a full disk) must not lose the run: the summary
// is printed, the report goes to the fallback dir it names, exit 3. Mounts a small tmpfs (root,
// as CI and this project's machines run).
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ExitCode } from '../../src/cli/exit-codes.js';
import type { Report } from '../../src/report/schema.js';
import { tempDir } from '../support/core-fixtures.js';
import { runChurn } from '../support/churn-process.js';

describe('churn run with a full report dir', () => {
  it(
    'prints the summary, writes the report to the fallback it names, exits 3',
    { timeout: 120_000 },
    async () => {
      const dir = await tempDir();
      const full = join(dir, 'full');
      await mkdir(full);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full]);
      onTestFinished(() => {
        execFileSync('umount', [full]);
      });
      // Fill it: the report (tens of kB) cannot fit.
      await writeFile(join(full, 'filler'), Buffer.alloc(60 * 1024)).catch(() => undefined);
      const tmp = join(dir, 'tmp');
      await mkdir(tmp);
      const { code, stdout, stderr } = await runChurn(
        ['run', '--duration', '2s', '--concurrency', '2', '--report-dir', full],
        dir,
        { env: { TMPDIR: tmp } },
      );
      expect(stderr).toMatch(/cannot write the report under .*full: .*(ENOSPC|no space)/i);
      const fallback = join(tmp, 'churn-reports');
      expect(stderr).toContain(`the report was written to ${fallback}/`);
      // The figures reached the terminal.
      expect(stdout).toMatch(/cycle/);
      expect(stdout).toContain(`report: ${fallback}/`);
      expect(code).toBe(ExitCode.broken);
      // Nothing half-written left in the full dir.
      const left = execFileSync('find', [full, '-name', '*.tmp'], { encoding: 'utf8' });
      expect(left).toBe('');
      const scenarios = await readdir(fallback);
      const files = await readdir(join(fallback, scenarios[0]!));
      const report = JSON.parse(
        await readFile(join(fallback, scenarios[0]!, files[0]!), 'utf8'),
      ) as Report;
      expect(report.cycles.succeeded).toBeGreaterThan(0);
    },
  );
});
