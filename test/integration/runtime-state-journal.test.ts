// The state journal: what was acknowledged is there after a restart, through compactions and
// a last line cut short by a crash.
import { appendFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeState } from '../../src/runtime/state-codec.js';
import { StateJournal } from '../../src/runtime/state-journal.js';
import { isStateFile, recoverState } from '../../src/runtime/state-recovery.js';
import { tempDir } from '../support/core-fixtures.js';

describe('StateJournal', () => {
  it('recovers every acknowledged mutation across compactions, without close', async () => {
    const dir = await tempDir();
    const journal = await StateJournal.open(dir, { compactAfterLines: 50 });
    const expected = new Map<string, { n: number; at: bigint }>();
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 1000; i++) {
      const id = `o${i % 37}`;
      if (i % 5 === 4) {
        expected.delete(id);
        writes.push(journal.delete('thing', id));
      } else {
        const value = { n: i, at: BigInt(i) * 1_000_000_007n };
        expected.set(id, value);
        writes.push(journal.put('thing', id, value));
      }
      if (i % 100 === 0) await Promise.all(writes);
    }
    await Promise.all(writes);
    // Compactions happened: few journals remain, and a snapshot.
    expect(readdirSync(dir).filter((n) => n.startsWith('journal.')).length).toBeLessThanOrEqual(3);
    // No close(): as after a crash of the process.
    const reopened = await StateJournal.open(dir);
    const loaded = reopened.load<{ n: number; at: bigint }>('thing');
    expect(loaded.sort((a, b) => a.n - b.n)).toEqual(
      [...expected.values()].sort((a, b) => a.n - b.n),
    );
    await reopened.close();
    await journal.close();
  });

  it('recovers every acknowledged mutation from the directory as it stands at any moment of a compaction', async () => {
    // What kill -9 leaves is the directory as it stands at that instant: every write, rename
    // and unlink done, none after. Read it between turns of the loop while 8 writers mutate 30
    // keys (one mutation per key at a time) and compactions run every 40 records, and recover
    // each copy: every key holds its last acknowledged value or the one in flight on it.
    const dir = await tempDir();
    const journal = await StateJournal.open(dir, { compactAfterLines: 40 });
    const acked = new Map<string, string>();
    const inFlight = new Map<string, string>();
    let stop = false;
    let counter = 0;
    const writer = async (): Promise<void> => {
      while (!stop) {
        let key: string;
        do key = `k${Math.floor(Math.random() * 30)}`;
        while (inFlight.has(key));
        const n = counter++;
        const label = n % 5 === 4 ? 'del' : String(n);
        inFlight.set(key, label);
        await (label === 'del'
          ? journal.delete('thing', key)
          : journal.put('thing', key, { key, n, pad: 'x'.repeat(n % 200) }));
        inFlight.delete(key);
        acked.set(key, label);
      }
    };
    const writers = Array.from({ length: 8 }, () => writer());
    let copies = 0;
    let midCompaction = 0;
    while (copies < 300) {
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      const names = readdirSync(dir).filter(isStateFile).sort();
      const wanted = new Map(acked);
      const open = new Map(inFlight);
      const files = new Map<string, Buffer>();
      try {
        for (const name of names) files.set(name, readFileSync(join(dir, name)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed meanwhile
        throw err;
      }
      // A rename or unlink on the thread pool during the copy: not one instant, try again.
      if (readdirSync(dir).filter(isStateFile).sort().join() !== names.join()) continue;
      copies += 1;
      const reading = recoverState(dir, files, undefined);
      const where = `${names.join()}: ${JSON.stringify(reading.problems)}`;
      expect(reading.lost, where).toBe(0);
      for (const p of reading.problems) expect(p, where).toMatch(/^snapshot\.\d+ is missing/);
      if (reading.problems.length > 0) midCompaction += 1;
      const found = new Map<string, string>();
      for (const value of reading.objects.values()) {
        const thing = decodeState(value) as { key: string; n: number };
        found.set(thing.key, String(thing.n));
      }
      for (const key of new Set([...wanted.keys(), ...found.keys()])) {
        const allowed = [wanted.get(key) ?? 'del', ...(open.has(key) ? [open.get(key)] : [])];
        expect(allowed, `${where}: ${key}`).toContain(found.get(key) ?? 'del');
      }
    }
    stop = true;
    await Promise.all(writers);
    await journal.close();
    // Some copies caught a compaction between its new journal and its snapshot.
    expect(midCompaction).toBeGreaterThan(0);
  });

  it('drops a last line cut short by a crash and keeps everything before it', async () => {
    const dir = await tempDir();
    const journal = await StateJournal.open(dir);
    await journal.put('pod', 'a', { v: 1 });
    await journal.put('pod', 'b', { v: 2 });
    const current = readdirSync(dir).find((n) => n.startsWith('journal.'))!;
    appendFileSync(join(dir, current), Buffer.from([40, 0, 0, 0, 1, 2, 3]));
    const reopened = await StateJournal.open(dir);
    expect(
      reopened
        .load<{ v: number }>('pod')
        .map((p) => p.v)
        .sort(),
    ).toEqual([1, 2]);
    await reopened.put('pod', 'c', { v: 3 });
    await reopened.close();
    const third = await StateJournal.open(dir);
    expect(
      third
        .load<{ v: number }>('pod')
        .map((p) => p.v)
        .sort(),
    ).toEqual([1, 2, 3]);
    await third.close();
    await journal.close();
  });

  it('keeps every object through reopens, each of which starts from the snapshot it wrote', async () => {
    const dir = await tempDir();
    const first = await StateJournal.open(dir);
    await first.put('pod', 'a', { at: 1n << 62n, labels: { $bigint: 'label' } });
    await first.put('pod', 'b', { at: 7n });
    await first.close();
    // The second open writes a snapshot holding a and b; the third reads them back from it.
    const second = await StateJournal.open(dir);
    await second.delete('pod', 'b');
    await second.put('pod', 'c', { at: 9n });
    await second.close();
    const third = await StateJournal.open(dir);
    expect(third.recovery).toMatchObject({ lost: 0, problems: [] });
    expect(third.recovery.from).toMatch(/^snapshot\.\d+ \+ journal\.\d+$/);
    expect(third.load<{ at: bigint }>('pod').sort((x, y) => Number(x.at - y.at))).toEqual([
      { at: 9n },
      { at: 1n << 62n, labels: { $bigint: 'label' } },
    ]);
    await third.close();
  });

  it('fsyncs in durable mode and still recovers', async () => {
    const dir = await tempDir();
    const journal = await StateJournal.open(dir, { durable: true });
    await Promise.all(Array.from({ length: 20 }, (_, i) => journal.put('k', `${i}`, { i })));
    await journal.close();
    const reopened = await StateJournal.open(dir);
    expect(reopened.load('k')).toHaveLength(20);
    await reopened.close();
  });
});
