// The mark of a core's task processes, read back from /proc/<pid>/environ bytes, and the
// children lists of /proc/<pid>/task/<tid>/children.
import { describe, expect, it } from 'vitest';
import { parseChildren } from '../../../src/runtime/executors/process-tree.js';
import {
  markedContainerId,
  taskMarker,
  taskMarkerVariable,
} from '../../../src/common/task-mark.js';

const key = '0123456789abcdef';

/** NUL-separated environment bytes, as /proc/<pid>/environ holds them. */
function environ(...vars: string[]): Buffer {
  return Buffer.from(vars.map((v) => `${v}\0`).join(''), 'latin1');
}

describe('task marker', () => {
  it('is one variable naming the core and the container', () => {
    expect(taskMarker(key, 'c1')).toBe(`${taskMarkerVariable}=${key}/c1`);
  });

  it.each([
    ['first variable', environ(taskMarker(key, 'abc'), 'PATH=/bin'), 'abc'],
    ['last variable', environ('PATH=/bin', 'HOME=/', taskMarker(key, 'abc')), 'abc'],
    ['no trailing NUL', Buffer.from(`PATH=/bin\0${taskMarker(key, 'abc')}`), 'abc'],
    ['another core', environ(taskMarker('fedcba9876543210', 'abc')), undefined],
    ['no mark', environ('PATH=/bin', 'HOME=/'), undefined],
    ['empty (a zombie)', Buffer.alloc(0), undefined],
    ['inside another value', environ(`X=${taskMarker(key, 'abc')}`), undefined],
    [
      'inside another value, then for real',
      environ(`X=${taskMarker(key, 'bad')}`, taskMarker(key, 'good')),
      'good',
    ],
    ['empty container id', environ(`${taskMarkerVariable}=${key}/`), undefined],
  ])('reads the container id back: %s', (_name, bytes, expected) => {
    expect(markedContainerId(bytes, key)).toBe(expected);
  });
});

describe('children list', () => {
  it.each([
    ['', []],
    ['12 ', [12]],
    ['12 345 6789 ', [12, 345, 6789]],
    ['12 345', [12, 345]],
  ])('parses %j', (text, expected) => {
    const out: number[] = [];
    parseChildren(text, out);
    expect(out).toEqual(expected);
  });

  it('appends to what is there', () => {
    const out = [1];
    parseChildren('2 3 ', out);
    expect(out).toEqual([1, 2, 3]);
  });
});
