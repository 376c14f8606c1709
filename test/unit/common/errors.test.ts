// The error codes are a public contract: each is documented, and ChurnError keeps code and cause.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ChurnError,
  harnessErrorCodes,
  isChurnError,
  isRuntimeErrorCode,
  runtimeErrorCodes,
  toChurnError,
} from '../../../src/common/errors.js';

describe('error codes', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

  it.each([...runtimeErrorCodes, ...harnessErrorCodes, 'EXIT_CODE_MISMATCH'])(
    'docs/errors.md documents %s',
    (code) => {
      expect(doc).toMatch(new RegExp(`^\\| \`${code}\`\\s+\\|`, 'm'));
    },
  );

  it('tells runtime codes from harness codes', () => {
    expect(isRuntimeErrorCode('NOT_FOUND')).toBe(true);
    expect(isRuntimeErrorCode('SCENARIO_INVALID')).toBe(false);
  });

  it('wraps with context, keeping the code and the cause', () => {
    const inner = new ChurnError('NOT_FOUND', 'container "c1" not found');
    const outer = inner.wrap('stop');
    expect(outer.code).toBe('NOT_FOUND');
    expect(outer.message).toBe('stop: container "c1" not found');
    expect(outer.cause).toBe(inner);
    expect(isChurnError(outer, 'NOT_FOUND')).toBe(true);
    expect(isChurnError(outer, 'UNKNOWN')).toBe(false);
  });

  it('turns anything thrown into a ChurnError', () => {
    expect(toChurnError(new DOMException('x', 'AbortError')).code).toBe('CANCELLED');
    expect(toChurnError(new Error('boom')).code).toBe('UNKNOWN');
    expect(toChurnError('text', 'INTERNAL').code).toBe('INTERNAL');
    const same = new ChurnError('UNAVAILABLE', 'down');
    expect(toChurnError(same)).toBe(same);
  });
});
