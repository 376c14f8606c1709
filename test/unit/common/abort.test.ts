// onAbort: many callbacks on one signal share one listener; a remover takes one back.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { onAbort, unboundedController } from '../../../src/common/abort.js';

describe('onAbort', () => {
  it('calls every callback still registered once, through one listener per signal', () => {
    const controller = unboundedController();
    const called: number[] = [];
    const removers = [0, 1, 2, 3].map((i) => onAbort(controller.signal, () => called.push(i)));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    removers[1]!();
    removers[1]!();
    controller.abort();
    controller.abort();
    expect(called).toEqual([0, 2, 3]);
  });

  it('calls at once for a signal that has already aborted', () => {
    const signal = AbortSignal.abort();
    let called = 0;
    const remove = onAbort(signal, () => called++);
    expect(called).toBe(1);
    remove();
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('registering the same function twice calls it twice', () => {
    const controller = new AbortController();
    let called = 0;
    const fn = (): void => {
      called++;
    };
    onAbort(controller.signal, fn);
    onAbort(controller.signal, fn);
    controller.abort();
    expect(called).toBe(2);
  });
});
