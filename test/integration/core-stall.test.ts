// A stalled runtime is the runtime's latency, never the harness's lag: the built-in core runs
// in a process of its own, so a 500 ms busy-wait in its thread delays the calls in flight and
// leaves churn's event loop alone.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/schema.js';
import { tempDir } from '../support/core-fixtures.js';
import { runChurn } from '../support/churn-process.js';

describe('a stall in the built-in core', () => {
  it('shows in the latencies of the calls in flight, not as harness lag', async () => {
    const dir = await tempDir();
    const file = join(dir, 'stall.yaml');
    await writeFile(
      file,
      [
        'name: core-stall',
        'workload:',
        '  command: [sleep, "3600"]',
        'load:',
        '  phases: [{ duration: 4s, concurrency: 2 }]',
        'faults:',
        '  start: { stall: 500ms }',
        '',
      ].join('\n'),
    );
    const { code, stdout, stderr } = await runChurn(
      ['run', file, '--report-dir', 'out', '--quiet'],
      dir,
    );
    expect(code, stderr).toBe(0);
    const report = JSON.parse(await readFile(stdout.trim(), 'utf8')) as Report;

    // Every start waited out its own stall.
    const start = report.operations.start!;
    expect(start.count).toBeGreaterThan(0);
    expect(start.latencyMs!.p50).toBeGreaterThanOrEqual(500);
    // Calls of the other worker that reached the core during a stall waited behind it.
    const others = (['run_pod', 'create', 'stop', 'remove', 'stop_pod', 'remove_pod'] as const).map(
      (op) => report.operations[op]!.latencyMs!.max,
    );
    expect(Math.max(...others)).toBeGreaterThanOrEqual(250);
    // churn's own event loop never stalled with it.
    const lagMaxMs = Math.max(...report.resources!.points.map((p) => p.eventLoopLagMaxMs));
    expect(lagMaxMs).toBeLessThan(200);
  });
});
