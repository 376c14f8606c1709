/**
 * `churn run --pushgateway` against a real Pushgateway (Debian's, on loopback): pushes during
 * the run, leaves the final values under job=churn/instance/scenario, and leaves nothing with
 * --pushgateway-delete.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/schema.js';
import { runChurn, startChurn } from '../support/churn-process.js';
import { tempDir } from '../support/core-fixtures.js';
import {
  freePort,
  prometheusSkipReason,
  startPushgateway,
  waitFor,
  type ExpositionSample,
} from '../support/prometheus.js';

const skip = prometheusSkipReason();

async function scenario(dir: string, name: string): Promise<string> {
  const path = join(dir, `${name}.yaml`);
  await writeFile(
    path,
    `name: ${name}\nworkload:\n  command: [sleep, "3600"]\nload:\n  phases: [{ duration: 3s, concurrency: 2 }]\n`,
  );
  return path;
}

function ofGroup(samples: ExpositionSample[], instance: string): ExpositionSample[] {
  return samples.filter(
    (s) =>
      s.name.startsWith('churn_') &&
      s.labels['job'] === 'churn' &&
      s.labels['instance'] === instance,
  );
}

function value(
  samples: ExpositionSample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  const matching = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return matching.reduce((sum, s) => sum + s.value, 0);
}

describe.skipIf(skip !== undefined)('churn run --pushgateway', () => {
  it('leaves the final values at the gateway under job=churn, instance, scenario', async () => {
    const dir = await tempDir('churn-push-');
    const gateway = await startPushgateway();
    const file = await scenario(dir, 'push-final');
    const { code, stdout, stderr } = await runChurn(
      [
        'run',
        file,
        '--pushgateway',
        gateway.url,
        '--push-interval',
        '1s',
        '--push-instance',
        'e2e-a',
        '--quiet',
        // A loaded CI lagged churn's loop past the bound (125 ms at p99): not what is judged here.
        '--allow',
        'harness-bound',
        '--report-dir',
        join(dir, 'reports'),
      ],
      dir,
    );
    expect(code, stderr).toBe(0);
    const report = JSON.parse(await readFile(stdout.trim(), 'utf8')) as Report;
    expect(report.warnings).toEqual([]);
    const group = ofGroup(await gateway.samples(), 'e2e-a');
    expect(group.length).toBeGreaterThan(0);
    expect(group.every((s) => s.labels['scenario'] === 'push-final')).toBe(true);
    // The final values: the run has ended, and the counts are the report's.
    expect(value(group, 'churn_run_active')).toBe(0);
    const cycle = report.operations.cycle!;
    expect(value(group, 'churn_cycles_total')).toBe(cycle.count + cycle.errors);
    expect(value(group, 'churn_cycles_total')).toBeGreaterThan(0);
    for (const [op, figures] of Object.entries(report.operations)) {
      expect(value(group, 'churn_operation_duration_seconds_count', { op }), op).toBe(
        figures.count,
      );
    }
    expect(value(group, 'churn_run_info', { run_id: report.run.id })).toBe(1);
    // The builtin driver's target is its core's process, which the run closed before the final
    // push: gone, and said so (ChurnTargetDown ignores a target gone after its run ended).
    expect(value(group, 'churn_target_up', { target: 'churn-core' })).toBe(0);
  });

  it('pushes during the run, and --pushgateway-delete removes the group after the final push', async () => {
    const dir = await tempDir('churn-push-');
    const gateway = await startPushgateway();
    const file = await scenario(dir, 'push-delete');
    const run = startChurn(
      [
        'run',
        file,
        '--pushgateway',
        gateway.url,
        '--push-interval',
        '500ms',
        '--push-instance',
        'e2e-b',
        '--pushgateway-delete',
        '--quiet',
        // A loaded CI lagged churn's loop past the bound (125 ms at p99): not what is judged here.
        '--allow',
        'harness-bound',
        '--report-dir',
        join(dir, 'reports'),
      ],
      dir,
    );
    // A periodic push arrives while the run goes on.
    const during = await waitFor(
      'a push during the run',
      async () => {
        const group = ofGroup(await gateway.samples(), 'e2e-b');
        return value(group, 'churn_run_active') === 1 ? group : undefined;
      },
      20_000,
      100,
    );
    expect(value(during, 'churn_run_info')).toBe(1);
    expect(await run.exited, run.stderr()).toBe(0);
    const report = JSON.parse(await readFile(run.stdout().trim(), 'utf8')) as Report;
    expect(report.warnings).toEqual([]);
    expect(ofGroup(await gateway.samples(), 'e2e-b')).toEqual([]);
  });

  it('a gateway that cannot be reached does not fail the run: the report says so', async () => {
    const dir = await tempDir('churn-push-');
    const file = await scenario(dir, 'push-unreachable');
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const { code, stdout, stderr } = await runChurn(
      [
        'run',
        file,
        '--pushgateway',
        nobody,
        '--quiet',
        // A loaded CI lagged churn's loop past the bound (125 ms at p99): not what is judged here.
        '--allow',
        'harness-bound',
        '--report-dir',
        join(dir, 'reports'),
      ],
      dir,
    );
    expect(code, stderr).toBe(0);
    const report = JSON.parse(await readFile(stdout.trim(), 'utf8')) as Report;
    // One warning of the gateway's (a loaded machine may add the harness's own).
    const gatewayWarnings = report.warnings.filter((w) => w.includes('Pushgateway'));
    expect(gatewayWarnings).toHaveLength(1);
    expect(gatewayWarnings[0]).toContain(`Pushgateway ${nobody}: the final push failed`);
  });
});
