import { describe, expect, it } from 'vitest';
import { KeyedMutex } from '../../../src/runtime/keyed-mutex.js';

describe('KeyedMutex', () => {
  it('runs holders of one key one at a time in order, other keys concurrently', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a1 = mutex.run('a', async () => {
      log.push('a1 in');
      await gate;
      log.push('a1 out');
    });
    const a2 = mutex.run('a', () => {
      log.push('a2');
      return Promise.resolve();
    });
    const b = mutex.run('b', () => {
      log.push('b');
      return Promise.resolve();
    });
    await b;
    expect(log).toEqual(['a1 in', 'b']);
    release();
    await Promise.all([a1, a2]);
    expect(log).toEqual(['a1 in', 'b', 'a1 out', 'a2']);
  });

  it('releases the key when the holder throws', async () => {
    const mutex = new KeyedMutex();
    await expect(mutex.run('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await mutex.run('k', () => Promise.resolve(1))).toBe(1);
  });
});
