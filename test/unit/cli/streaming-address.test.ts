import { describe, expect, it } from 'vitest';
import { parseStreamingAddress } from '../../../src/cli/commands/serve.js';
import { isChurnError } from '../../../src/common/errors.js';

describe('--streaming-address', () => {
  it.each([
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['127.0.0.1', { host: '127.0.0.1', port: 0 }],
    ['127.8.9.10:10010', { host: '127.8.9.10', port: 10010 }],
    ['[::1]:10010', { host: '::1', port: 10010 }],
    ['[::1]', { host: '::1', port: 0 }],
    [' 127.0.0.1:65535 ', { host: '127.0.0.1', port: 65535 }],
  ])('takes %j', (value, expected) => {
    expect(parseStreamingAddress(value)).toEqual(expected);
  });

  it.each([
    '0.0.0.0:0',
    '10.0.0.1:10010',
    'localhost',
    '::1',
    '[::]:0',
    '[::ffff:127.0.0.1]:0',
    '127.0.0.1:65536',
    '127.0.0.1:-1',
    '127.0.0.1:',
    '',
  ])('refuses %j with USAGE naming the flag', (value) => {
    let caught: unknown;
    try {
      parseStreamingAddress(value);
    } catch (err) {
      caught = err;
    }
    expect(isChurnError(caught) && caught.code).toBe('USAGE');
    expect((caught as Error).message).toMatch(
      /^--streaming-address .*: use a loopback HOST\[:PORT\]/,
    );
  });
});
