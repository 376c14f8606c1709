// `churn validate`, run in-process through runCli with a buffer io.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import { bufferIo } from '../../support/cli-io.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const shipped = readdirSync(join(root, 'scenarios'))
  .sort()
  .map((f) => `scenarios/${f}`);
const broken = 'test/fixtures/scenarios/broken';

async function validate(...args: string[]) {
  const io = bufferIo({ cwd: root });
  const code = await runCli(['validate', ...args], io.io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('churn validate', () => {
  it('accepts every shipped scenario: exit 0, one ✓ line each with a summary', async () => {
    const { code, stdout, stderr } = await validate(...shipped);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(shipped.length);
    expect(lines).toContain(
      '✓ scenarios/smoke.yaml (smoke: 1 phase, 10s; 1 workload; driver builtin; 1 threshold)',
    );
    expect(lines).toContain(
      '✓ scenarios/soak-nightly.yaml (soak-nightly: 2 phases, 6h 5m; 1 workload; driver builtin; 4 thresholds)',
    );
  });

  it('checks every file and exits 2 when any is invalid, problems on stderr', async () => {
    const { code, stdout, stderr } = await validate(
      'scenarios/smoke.yaml',
      `${broken}/unknown-key-nested.yaml`,
      'scenarios/pod-density.yaml',
    );
    expect(code).toBe(2);
    expect(stdout.trimEnd().split('\n')).toEqual([
      '✓ scenarios/smoke.yaml (smoke: 1 phase, 10s; 1 workload; driver builtin; 1 threshold)',
      '✓ scenarios/pod-density.yaml (pod-density: 2 phases, 40s; 1 workload; driver builtin; 3 thresholds)',
    ]);
    expect(stderr).toBe(
      [
        `✗ ${broken}/unknown-key-nested.yaml: 2 problems`,
        `  ${broken}/unknown-key-nested.yaml:5:3 target.drivr: unknown key (did you mean "driver"?)`,
        `  ${broken}/unknown-key-nested.yaml:7:3 report.colour: unknown key: use one of dir, labels, interval, checkpointInterval`,
        '',
      ].join('\n'),
    );
  });

  it('an unknown flag is a usage error before any file is checked: exit 2, nothing on stdout', async () => {
    const { code, stdout, stderr } = await validate('scenarios/smoke.yaml', '--bogus');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('unknown flag --bogus');
  });

  it('colours on a terminal, and not when NO_COLOR is set', async () => {
    const run = async (env: Record<string, string>) => {
      const io = bufferIo({ cwd: root, isTTY: true, env });
      expect(await runCli(['validate', 'scenarios/smoke.yaml'], io.io)).toBe(0);
      return io.stdout();
    };
    // eslint-disable-next-line no-control-regex
    const ansi = /\u001b\[/;
    expect(await run({})).toMatch(ansi);
    expect(await run({ NO_COLOR: '1' })).not.toMatch(ansi);
  });

  it('--json prints one machine-readable result on stdout', async () => {
    const { code, stdout, stderr } = await validate(
      '--json',
      'scenarios/smoke.yaml',
      `${broken}/negative-duration.yaml`,
    );
    expect(code).toBe(2);
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toEqual({
      ok: false,
      files: [
        {
          file: 'scenarios/smoke.yaml',
          ok: true,
          scenario: {
            name: 'smoke',
            driver: 'builtin',
            phases: 1,
            durationMs: 10_000,
            workloads: 1,
            thresholds: 1,
          },
        },
        {
          file: `${broken}/negative-duration.yaml`,
          ok: false,
          problems: [
            {
              line: 5,
              column: 17,
              flag: null,
              path: 'load.phases[0].duration',
              message: '"-5s" is negative: a duration must be 0 or more',
              text: `${broken}/negative-duration.yaml:5:17 load.phases[0].duration: "-5s" is negative: a duration must be 0 or more`,
            },
          ],
        },
      ],
    });
  });

  it('--json says ok when every file is', async () => {
    const { code, stdout } = await validate('--json', 'scenarios/smoke.yaml');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, files: [{ ok: true }] });
  });

  it('refuses a missing file and a directory, naming them', async () => {
    const { code, stderr } = await validate('no/such.yaml', 'scenarios');
    expect(code).toBe(2);
    expect(stderr).toContain(
      '✗ no/such.yaml: 1 problem\n  no/such.yaml: cannot read scenario: no such file\n',
    );
    expect(stderr).toContain(
      '✗ scenarios: 1 problem\n  scenarios: cannot read scenario: is a directory, not a scenario file\n',
    );
  });

  it('is a usage error without a file', async () => {
    const { code, stderr } = await validate();
    expect(code).toBe(2);
    expect(stderr).toMatch(/^churn: Not enough non-option arguments/);
  });

  it('has a --help with examples', async () => {
    const { code, stdout } = await validate('--help');
    expect(code).toBe(0);
    expect(stdout).toContain('churn validate <files..>');
    expect(stdout).toContain('churn validate scenarios/*.yaml');
    expect(stdout).toContain('--json');
    expect(stdout.replace(/\s+/g, ' ')).toContain('Exit 0 when every file is valid, 2 otherwise');
  });
});
