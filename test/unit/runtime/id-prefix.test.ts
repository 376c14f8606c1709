import { describe, expect, it } from 'vitest';
import { resolveIdPrefix } from '../../../src/runtime/id-prefix.js';

function resolve(name: string, ids: readonly string[]) {
  const set = new Set(ids);
  let scans = 0;
  const result = resolveIdPrefix(
    name,
    (id) => set.has(id),
    () => {
      scans++;
      return set;
    },
  );
  return { result, scans };
}

describe('resolveIdPrefix (containerd truncindex semantics)', () => {
  const ids = ['3f2a9c', '3f2b00', 'a10000', 'a1'];

  it('answers an exact id without scanning, even when it is a prefix of another', () => {
    expect(resolve('a1', ids)).toEqual({ result: { kind: 'id', id: 'a1' }, scans: 0 });
  });

  it('resolves a unique prefix of any length', () => {
    expect(resolve('3f2a', ids).result).toEqual({ kind: 'id', id: '3f2a9c' });
    expect(resolve('a10', ids).result).toEqual({ kind: 'id', id: 'a10000' });
  });

  it('calls a prefix of several ids ambiguous, with how many', () => {
    expect(resolve('3f2', ids).result).toEqual({ kind: 'ambiguous', matches: 2 });
    expect(resolve('3', ids).result).toEqual({ kind: 'ambiguous', matches: 2 });
  });

  it('names nothing with an empty name or a prefix of no id', () => {
    expect(resolve('', ids).result).toEqual({ kind: 'none' });
    expect(resolve('ff', ids).result).toEqual({ kind: 'none' });
    expect(resolve('3f2a9c0', ids).result).toEqual({ kind: 'none' });
    expect(resolve('x', []).result).toEqual({ kind: 'none' });
  });
});
