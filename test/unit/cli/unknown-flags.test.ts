// A misspelt flag is answered with the flag it meant, for every command.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import { commandNames, loadCommands } from '../../../src/cli/commands/index.js';
import {
  describeUnknownFlags,
  findUnknownFlags,
  type KnownFlags,
} from '../../../src/cli/unknown-flags.js';
import { bufferIo } from '../../support/cli-io.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

const known: KnownFlags = {
  names: ['help', 'version', 'concurrency', 'duration', 'report-dir', 'dry-run', 'color'],
  aliases: { help: ['h'], 'report-dir': ['r'] },
};

describe('findUnknownFlags', () => {
  const rows: [string, string[], { flag: string; suggestions: string[] }[]][] = [
    ['a known flag', ['run', '--concurrency', '4'], []],
    ['a typo', ['--concurency', '4'], [{ flag: 'concurency', suggestions: ['concurrency'] }]],
    ['a swap of two letters', ['--duraiton=3s'], [{ flag: 'duraiton', suggestions: ['duration'] }]],
    ['camelCase of a known flag', ['--reportDir', 'x', '--dryRun'], []],
    ['--no- of a known flag', ['--no-color'], []],
    ['--no- of a misspelt flag', ['--no-colr'], [{ flag: 'no-colr', suggestions: ['color'] }]],
    ['a long alias', ['--r', 'x'], []],
    ['nothing close', ['--zzzz'], [{ flag: 'zzzz', suggestions: [] }]],
    ['each once', ['--zzzz', '--zzzz'], [{ flag: 'zzzz', suggestions: [] }]],
    ['values and short flags are not flags', ['x', '-h', '-5', '--concurrency=-3'], []],
    ['nothing after --', ['--', '--concurency'], []],
  ];
  it.each(rows)('%s', (_name, argv, expected) => {
    expect(findUnknownFlags(argv, known)).toEqual(expected);
  });
});

describe('describeUnknownFlags', () => {
  const rows: [{ flag: string; suggestions: string[] }[], string][] = [
    [
      [{ flag: 'concurency', suggestions: ['concurrency'] }],
      'unknown flag --concurency; did you mean --concurrency?',
    ],
    [[{ flag: 'zzzz', suggestions: [] }], 'unknown flag --zzzz'],
    [
      [{ flag: 'bse', suggestions: ['base', 'use'] }],
      'unknown flag --bse; did you mean --base or --use?',
    ],
    [
      [
        { flag: 'concurency', suggestions: ['concurrency'] },
        { flag: 'zzzz', suggestions: [] },
      ],
      'unknown flags --concurency (did you mean --concurrency?), --zzzz',
    ],
  ];
  it.each(rows)('%j → %s', (unknown, expected) => {
    expect(describeUnknownFlags(unknown)).toBe(expected);
  });
});

describe('every command suggests the flag a typo meant', () => {
  async function churn(...args: string[]) {
    const io = bufferIo({ cwd: root });
    const code = await runCli(args, io.io);
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  }

  const names = commandNames;
  it('has each command under the name its module gives it', async () => {
    expect((await loadCommands()).map((c) => c.command.split(' ')[0])).toEqual(names);
  });

  it.each(names)('churn %s --hepl', async (name) => {
    const { code, stdout, stderr } = await churn(name, '--hepl');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `churn: unknown flag --hepl; did you mean --help?\n(churn ${name} --help shows its options)\n`,
    );
  });

  it('churn run --concurency 4', async () => {
    const { code, stderr } = await churn('run', '--concurency', '4', '--dry-run');
    expect(code).toBe(2);
    expect(stderr).toContain('unknown flag --concurency; did you mean --concurrency?');
  });

  it('churn compare --candiate', async () => {
    const { code, stderr } = await churn('compare', '--base', 'a', '--candiate', 'b');
    expect(code).toBe(2);
    expect(stderr).toContain('unknown flag --candiate; did you mean --candidate?');
  });

  it('without a command', async () => {
    const { code, stderr } = await churn('--verison');
    expect(code).toBe(2);
    expect(stderr).toContain('unknown flag --verison; did you mean --version?');
  });
});
