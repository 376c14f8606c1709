// The shipped alert rules are valid Prometheus rules (promtool check rules) and fire as their
// unit tests say (promtool test rules dashboards/alerts.test.yaml).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { prometheusSkipReason, promtoolBin } from '../support/prometheus.js';

const run = promisify(execFile);
const dashboards = fileURLToPath(new URL('../../dashboards', import.meta.url));
const skip = prometheusSkipReason();

describe.skipIf(skip !== undefined)('dashboards/alerts.yaml', () => {
  it('passes promtool check rules', async () => {
    const { stdout } = await run(promtoolBin, ['check', 'rules', join(dashboards, 'alerts.yaml')]);
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('passes its promtool unit tests (alerts.test.yaml)', async () => {
    const { stdout } = await run(promtoolBin, ['test', 'rules', 'alerts.test.yaml'], {
      cwd: dashboards,
    });
    expect(stdout).toContain('SUCCESS');
  });
});
