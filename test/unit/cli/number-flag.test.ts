// Numeric flags: a bad value is refused as typed, before the command runs.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import { numberFlag, parsePercent } from '../../../src/cli/number-flag.js';
import { isChurnError } from '../../../src/common/errors.js';
import { bufferIo } from '../../support/cli-io.js';

describe('numberFlag', () => {
  it.each([
    ['0.05', 0.05],
    [' 9464 ', 9464],
    ['-3', -3],
    ['1e3', 1000],
  ])('reads %j as %d', (text, value) => {
    expect(numberFlag('--x')(text)).toBe(value);
  });

  it.each(['abc', '', '  ', '12px', 'Infinity', 'NaN'])('refuses %j naming it', (text) => {
    let error: unknown;
    try {
      numberFlag('--alpha')(text);
    } catch (err) {
      error = err;
    }
    expect(isChurnError(error, 'USAGE')).toBe(true);
    expect((error as Error).message).toBe(`--alpha ${JSON.stringify(text.trim())}: not a number`);
  });

  it('a bad numeric flag is a usage error before the command reads anything: exit 2', async () => {
    const io = bufferIo();
    const code = await runCli(
      ['compare', 'no-such-a.json', 'no-such-b.json', '--alpha', 'zz'],
      io.io,
    );
    expect(code).toBe(2);
    expect(io.stderr()).toContain('--alpha "zz": not a number');
    expect(io.stderr()).not.toContain('no-such-a.json');
    expect(io.stdout()).toBe('');
  });
});

describe('parsePercent', () => {
  it.each([
    ['5%', 5],
    ['5', 5],
    [' 0.5 % ', 0.5],
  ])('reads %j as %d', (text, value) => {
    expect(parsePercent(text, '--min-effect')).toBe(value);
  });

  it.each(['abc', '-5%', '5%%', ''])('refuses %j naming the flag', (text) => {
    let error: unknown;
    try {
      parsePercent(text, '--min-effect');
    } catch (err) {
      error = err;
    }
    expect(isChurnError(error, 'USAGE')).toBe(true);
    expect((error as Error).message).toBe(
      `--min-effect "${text}" is not a percentage: write e.g. 5%`,
    );
  });
});
