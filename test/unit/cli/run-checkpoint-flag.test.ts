// `churn run --checkpoint-interval` sets report.checkpointInterval: checked like the file's key.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import { bufferIo } from '../../support/cli-io.js';

async function churn(...args: string[]) {
  const io = bufferIo();
  const code = await runCli(args, io.io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

function checkpointMs(stdout: string): number {
  return (JSON.parse(stdout) as { scenario: { report: { checkpointIntervalMs: number } } }).scenario
    .report.checkpointIntervalMs;
}

describe('churn run --checkpoint-interval', () => {
  it('resolves auto against the plan: none for the 10 s smoke run, 5m for an hour', async () => {
    expect(checkpointMs((await churn('run', '--dry-run', '--json')).stdout)).toBe(0);
    const hour = await churn('run', '--dry-run', '--json', '--duration', '1h');
    expect(checkpointMs(hour.stdout)).toBe(300_000);
    const text = await churn('run', '--dry-run', '--duration', '1h');
    expect(text.stdout).toContain('checkpoint every 5m: the report so far');
  });

  it('takes an interval, or off', async () => {
    const every = await churn('run', '--dry-run', '--json', '--checkpoint-interval', '1s');
    expect(checkpointMs(every.stdout)).toBe(1000);
    const off = await churn(
      'run',
      '--dry-run',
      '--json',
      '--duration',
      '1h',
      '--checkpoint-interval',
      'off',
    );
    expect(checkpointMs(off.stdout)).toBe(0);
  });

  it('refuses a bad value with exit 2, naming the flag', async () => {
    const { code, stdout, stderr } = await churn(
      'run',
      '--dry-run',
      '--checkpoint-interval',
      '10ms',
    );
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      '--checkpoint-interval report.checkpointInterval: "10ms" is too short: write a duration of at least 1s (e.g. 5m), auto, or off (0)',
    );
  });

  it('is explained by churn run --help', async () => {
    const { stdout } = await churn('run', '--help');
    expect(stdout).toContain('--checkpoint-interval');
    expect(stdout).toContain('leaves its last checkpoint');
  });
});
