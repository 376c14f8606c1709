/**
 * The compressed soak (scenarios/soak-compressed.yaml): every operation a success, then nothing
 * left in the runtime or on the host. Whole (a million operations) it takes ~10 min on a quiet
 * 2-core host and over an hour on a loaded one, too long beside the rest of the suite: CI
 * (`CI=true`) runs its first 15 000 cycles (105 000 operations, ~1–2 min), `CHURN_SOAK=1` the
 * whole scenario (`CHURN_SOAK_ITERATIONS=N` any other count): `.ci/run` runs it whole, alone,
 * after the suite. Elsewhere the shortened
 * shipped-scenario runs of run-targets.test.ts cover the file.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/schema.js';
import { runChurn } from '../support/churn-process.js';
import { tempDir } from '../support/core-fixtures.js';

const repoRoot = new URL('../..', import.meta.url).pathname;
const whole = process.env['CHURN_SOAK'] === '1';
const wanted = process.env['CI'] === 'true' || whole;
/** The scenario's own count when whole. */
const iterations = Number(process.env['CHURN_SOAK_ITERATIONS'] ?? (whole ? 142_858 : 15_000));
const cycleOps = 7;

describe.runIf(wanted)('the compressed soak on the built-in core', () => {
  it(
    `passes ${iterations * cycleOps} operations with zero errors and zero leaks`,
    async () => {
      const dir = await tempDir('churn-soak-');
      const { code, stdout, stderr } = await runChurn(
        [
          'run',
          join(repoRoot, 'scenarios', 'soak-compressed.yaml'),
          '--report-dir',
          join(dir, 'reports'),
          '--iterations',
          String(iterations),
          '--quiet',
        ],
        dir,
      );
      expect(code, stderr).toBe(0);
      const report = JSON.parse(await readFile(stdout.trim(), 'utf8')) as Report;
      expect(report.run).toMatchObject({ exitReason: 'completed', endedBy: 'iterations' });
      let operations = 0;
      let errors = 0;
      for (const [op, o] of Object.entries(report.operations)) {
        if (op === 'cycle') continue;
        operations += o.count;
        errors += o.errors;
      }
      expect(errors).toBe(0);
      expect(operations).toBe(iterations * cycleOps);
      expect(report.leaks).toMatchObject({
        pods: 0,
        containers: 0,
        processes: 0,
        mounts: 0,
        notes: [],
      });
      // Checked during the run too, every 30 s: the host was scanned each time.
      expect(report.leaks!.checks.length).toBeGreaterThan(0);
      for (const k of report.leaks!.checks) expect(k.processes).not.toBeNull();
      expect(report.thresholds.every((t) => t.ok)).toBe(true);
    },
    // A bound for a runaway run only: it ends by its iterations cap (within its 2 h phase).
    130 * 60_000,
  );
});
