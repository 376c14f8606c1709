// `churn run --allow / --max-harness-lag / --max-dropped` set the scenario's integrity block.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import { bufferIo } from '../../support/cli-io.js';

async function churn(...args: string[]) {
  const io = bufferIo();
  const code = await runCli(args, io.io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('churn run: integrity flags', () => {
  it('are written into the scenario and validated like the file', async () => {
    const { code, stdout } = await churn(
      'run',
      '--dry-run',
      '--json',
      '--allow',
      'harness-bound',
      '--allow',
      'overloaded',
      '--max-harness-lag',
      '250ms',
      '--max-dropped',
      '5%',
      '--max-outage',
      '2m',
    );
    expect(code).toBe(0);
    const { scenario } = JSON.parse(stdout) as {
      scenario: { integrity: { maxHarnessLagP99Ms: number; maxDroppedRatio: number } };
    };
    expect(scenario.integrity).toEqual({
      maxHarnessLagP99Ms: 250,
      maxDroppedRatio: 0.05,
      maxOutageMs: 120_000,
      allow: ['harness-bound', 'overloaded'],
    });
  });

  it('defaults to 100ms, 1% and 60s, nothing allowed', async () => {
    const { stdout } = await churn('run', '--dry-run', '--json');
    expect((JSON.parse(stdout) as { scenario: { integrity: unknown } }).scenario.integrity).toEqual(
      { maxHarnessLagP99Ms: 100, maxDroppedRatio: 0.01, maxOutageMs: 60_000, allow: [] },
    );
  });

  it('refuses a bad --max-outage, naming the flag', async () => {
    const { code, stderr } = await churn('run', '--dry-run', '--max-outage', 'soon');
    expect(code).toBe(2);
    expect(stderr).toContain('--max-outage');
  });

  it('refuses a mark that does not exist, naming the flag', async () => {
    const { code, stderr } = await churn('run', '--dry-run', '--allow', 'harness-bond');
    expect(code).toBe(2);
    expect(stderr).toContain('--allow');
    expect(stderr).toContain('harness-bound');
  });
});
