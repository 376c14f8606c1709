// Recovery of a state directory from its files' bytes (recoverState is pure): what it rebuilds,
// what it says it lost, and when it refuses. Torn tails, flipped bytes, bad sequence numbers,
// records of the wrong shape, and format 1.
import { describe, expect, it } from 'vitest';
import { isChurnError } from '../../../src/common/errors.js';
import { decodeState, encodeState } from '../../../src/runtime/state-codec.js';
import {
  encodeFrame,
  encodeJournalHeader,
  encodeSnapshot,
  frameHeaderBytes,
  recordPayload,
} from '../../../src/runtime/state-frame.js';
import { recoverState, type StateReading } from '../../../src/runtime/state-recovery.js';
import { coreStateValidators } from '../../../src/runtime/state-schema.js';

type Rec = readonly [kind: string, id: string, value: unknown];

/** Journal `gen` holding `records` numbered from `firstSeq`, and where each record's frame starts. */
function journal(
  gen: number,
  firstSeq: number,
  records: readonly Rec[],
): { bytes: Buffer; at: number[] } {
  const header = encodeJournalHeader(gen, firstSeq);
  const parts: Buffer[] = [header];
  const at: number[] = [];
  let pos = header.length;
  records.forEach(([k, id, v], i) => {
    const frame = encodeFrame(
      firstSeq + i,
      recordPayload(k, id, v === null ? null : encodeState(v)),
    );
    at.push(pos);
    pos += frame.length;
    parts.push(frame);
  });
  return { bytes: Buffer.concat(parts), at };
}

function snapshot(gen: number, lastSeq: number, objects: readonly Rec[]): Buffer {
  return encodeSnapshot(
    gen,
    lastSeq,
    new Map(objects.map(([k, id, v]) => [`${k}/${id}`, encodeState(v)])),
  );
}

function recover(files: Record<string, Buffer>, validators = coreStateValidators): StateReading {
  return recoverState('/state', new Map(Object.entries(files)), validators);
}

function loaded(reading: StateReading): Record<string, unknown> {
  return Object.fromEntries([...reading.objects].map(([k, v]) => [k, decodeState(v)]));
}

/** A pod record the core's schema accepts. */
function pod(id: string, state: 'READY' | 'NOTREADY' = 'READY'): Record<string, unknown> {
  return {
    pod: {
      id,
      config: {
        metadata: { name: `n-${id}`, uid: `u-${id}`, namespace: 'ns', attempt: 0 },
        hostname: 'h',
        logDirectory: '',
        labels: { $bigint: 'a label that spells the tag' },
        annotations: {},
        networkMode: 'NODE',
        pidMode: 'CONTAINER',
        ipcMode: 'POD',
      },
      state,
      createdAtNs: 1_733_000_000_123_456_789n,
      runtimeHandler: '',
    },
    executor: 'process',
  };
}

describe('recoverState', () => {
  it('rebuilds a snapshot and the journal after it, bigints and tag-like labels intact', () => {
    const reading = recover({
      'snapshot.3': snapshot(3, 2, [
        ['pod', 'a', pod('a')],
        ['pod', 'b', pod('b')],
      ]),
      'journal.3': journal(3, 3, [
        ['pod', 'b', pod('b', 'NOTREADY')],
        ['pod', 'c', pod('c')],
        ['pod', 'a', null],
      ]).bytes,
    });
    expect(reading).toMatchObject({
      problems: [],
      lost: 0,
      lastSeq: 5,
      records: 3,
      baseGen: 3,
      maxGen: 3,
      migrated: false,
      from: 'snapshot.3 + journal.3',
    });
    expect(loaded(reading)).toEqual({ 'pod/b': pod('b', 'NOTREADY'), 'pod/c': pod('c') });
  });

  it('drops a torn tail of the newest journal, keeps every record before it, and says so', () => {
    const { bytes } = journal(0, 1, [
      ['pod', 'a', pod('a')],
      ['pod', 'b', pod('b')],
      ['pod', 'c', pod('c')],
    ]);
    const reading = recover({
      'snapshot.0': snapshot(0, 0, []),
      'journal.0': bytes.subarray(0, bytes.length - 10),
    });
    expect(Object.keys(loaded(reading)).sort()).toEqual(['pod/a', 'pod/b']);
    expect(reading.lost).toBe(0);
    expect(reading.lastSeq).toBe(2);
    expect(reading.problems).toHaveLength(1);
    expect(reading.problems[0]).toMatch(/^journal\.0: torn tail of \d+ bytes .*cut short/);
    expect(reading.problems[0]).toContain('pod/c');
  });

  it('skips a record with a flipped byte, keeps the records after it, and names what was lost', () => {
    const { bytes, at } = journal(0, 1, [
      ['pod', 'a', pod('a')],
      ['pod', 'b', pod('b')],
      ['pod', 'c', pod('c')],
      ['pod', 'd', pod('d')],
    ]);
    const damaged = Buffer.from(bytes);
    // Inside record 2's value, past its kind and id, so the report can still name it.
    damaged[at[1]! + frameHeaderBytes + 60]! ^= 0x20;
    const reading = recover({ 'snapshot.0': snapshot(0, 0, []), 'journal.0': damaged });
    expect(Object.keys(loaded(reading)).sort()).toEqual(['pod/a', 'pod/c', 'pod/d']);
    expect(reading.lost).toBe(1);
    expect(reading.lastSeq).toBe(4);
    expect(reading.problems).toEqual([
      expect.stringMatching(
        /^journal\.0: \d+ bytes at offset \d+ are damaged \(checksum mismatch\): record 2 is lost \(naming pod\/b\)/,
      ),
    ]);
  });

  it('counts a gap in the sequence numbers as lost records, and replays no record twice', () => {
    const header = encodeJournalHeader(0, 1);
    const frame = (seq: number, id: string): Buffer =>
      encodeFrame(seq, recordPayload('pod', id, encodeState(pod(id))));
    const reading = recover({
      'snapshot.0': snapshot(0, 0, []),
      'journal.0': Buffer.concat([
        header,
        frame(1, 'a'),
        frame(2, 'b'),
        frame(2, 'b-again'), // a sequence number that does not increase: not replayed
        frame(5, 'e'), // records 3 and 4 are in no file
      ]),
    });
    expect(Object.keys(loaded(reading)).sort()).toEqual(['pod/a', 'pod/b', 'pod/e']);
    expect(reading.lastSeq).toBe(5);
    expect(reading.lost).toBe(2);
    expect(reading.problems).toEqual([
      expect.stringMatching(/are damaged \(bad sequence number\): records 3–4 \(2\) are lost/),
    ]);
    // A gap with no damaged bytes in it: whole frames 1, 2, 5 back to back.
    const gap = recover({
      'snapshot.0': snapshot(0, 0, []),
      'journal.0': Buffer.concat([header, frame(1, 'a'), frame(2, 'b'), frame(5, 'e')]),
    });
    expect(gap.lost).toBe(2);
    expect(gap.problems).toEqual([
      expect.stringMatching(/^journal\.0: records 3–4 \(2\) are lost/),
    ]);
  });

  it('reports records missing between one journal and the next', () => {
    const reading = recover({
      'snapshot.0': snapshot(0, 0, []),
      'journal.0': journal(0, 1, [['pod', 'a', pod('a')]]).bytes,
      'journal.1': journal(1, 4, [['pod', 'd', pod('d')]]).bytes,
    });
    expect(Object.keys(loaded(reading)).sort()).toEqual(['pod/a', 'pod/d']);
    expect(reading.lost).toBe(2);
    expect(reading.problems).toEqual([
      'snapshot.1 is missing (a crash during a compaction, or deleted)',
      expect.stringMatching(/^journal\.1: records 2–3 \(2\) are lost/),
    ]);
    // Known from journal.1's header alone, when it holds no record yet.
    const empty = recover({
      'snapshot.0': snapshot(0, 0, []),
      'journal.0': journal(0, 1, [['pod', 'a', pod('a')]]).bytes,
      'snapshot.1': snapshot(1, 3, [['pod', 'a', pod('a')]]),
      'journal.1': journal(1, 4, []).bytes,
      'journal.2': journal(2, 6, []).bytes,
    });
    expect(empty.lost).toBe(2);
    expect(empty.lastSeq).toBe(5);
    expect(empty.problems).toEqual([
      'snapshot.2 is missing (a crash during a compaction, or deleted)',
      expect.stringMatching(/^journal\.2: records 4–5 \(2\) are lost/),
    ]);
  });

  it('refuses a record of the wrong shape by validation, keeping the object as it was before', () => {
    const wrong = { ...pod('a'), executor: 'bogus' };
    const noPod = { executor: 'process' };
    const reading = recover({
      'snapshot.0': snapshot(0, 0, []),
      'journal.0': journal(0, 1, [
        ['pod', 'a', pod('a')],
        ['pod', 'a', wrong],
        ['pod', 'b', noPod],
        ['gadget', 'x', { any: 1 }],
        ['pod', 'c', pod('c')],
      ]).bytes,
    });
    expect(loaded(reading)).toEqual({ 'pod/a': pod('a'), 'pod/c': pod('c') });
    expect(reading.lost).toBe(3);
    expect(reading.problems).toEqual([
      expect.stringMatching(
        /^journal\.0 record 2 \(pod\/a\) refused: executor: .*; kept as the records before left it$/,
      ),
      expect.stringMatching(/^journal\.0 record 3 \(pod\/b\) refused: pod: .*; not recovered$/),
      expect.stringMatching(/^journal\.0 record 4 \(gadget\/x\) refused: unknown kind "gadget"/),
    ]);
    // Without validators every shape passes: the refusals above are the schema's.
    expect(recover({ 'journal.0': journal(0, 1, [['pod', 'b', noPod]]).bytes }, {}).lost).toBe(1);
  });

  it('refuses a snapshot object of the wrong shape and keeps the others', () => {
    const reading = recover({
      'snapshot.1': snapshot(1, 7, [
        ['pod', 'a', pod('a')],
        ['pod', 'b', { ...pod('b'), pod: { ...(pod('b').pod as object), createdAtNs: 'soon' } }],
      ]),
      'journal.1': journal(1, 8, []).bytes,
    });
    expect(Object.keys(loaded(reading))).toEqual(['pod/a']);
    expect(reading.lost).toBe(1);
    expect(reading.problems).toEqual([
      expect.stringMatching(/^snapshot\.1: pod\/b refused: pod\.createdAtNs: /),
    ]);
  });

  it('falls back to the previous snapshot when the newest is damaged, losing nothing', () => {
    const newest = snapshot(1, 1, [['pod', 'a', pod('a')]]);
    newest[newest.length - 5]! ^= 0x01;
    const reading = recover({
      'snapshot.0': snapshot(0, 0, []),
      'journal.0': journal(0, 1, [['pod', 'a', pod('a')]]).bytes,
      'snapshot.1': newest,
      'journal.1': journal(1, 2, [['pod', 'b', pod('b')]]).bytes,
    });
    expect(Object.keys(loaded(reading)).sort()).toEqual(['pod/a', 'pod/b']);
    expect(reading.lost).toBe(0);
    expect(reading.from).toBe('snapshot.0 + journal.0–1');
    expect(reading.problems).toEqual([expect.stringMatching(/^snapshot\.1 is unusable \(/)]);
  });

  it('refuses with DATA_LOSS when no snapshot is left and the journals miss the first records', () => {
    const err: unknown = (() => {
      try {
        return recover({ 'journal.4': journal(4, 9, [['pod', 'a', pod('a')]]).bytes });
      } catch (e) {
        return e;
      }
    })();
    expect(isChurnError(err, 'DATA_LOSS')).toBe(true);
    expect((err as Error).message).toMatch(/journal\.4 starts at record 9.*Nothing was changed/);
    // From record 1 on, the journals alone are enough (the snapshot's loss is still reported).
    const rebuilt = recover({ 'journal.0': journal(0, 1, [['pod', 'a', pod('a')]]).bytes });
    expect(Object.keys(loaded(rebuilt))).toEqual(['pod/a']);
    expect(rebuilt.problems).toEqual(['no snapshot is left (deleted?)']);
  });

  describe('format 1', () => {
    const line = (k: string, id: string, v: unknown): string =>
      `{"k":"${k}","id":"${id}","v":${v === null ? 'null' : encodeState(v)}}\n`;

    it('migrates snapshot.json and the JSON-lines journals after it', () => {
      const snapshotJson = JSON.stringify({
        gen: 2,
        objects: { 'pod/a': encodeState(pod('a')), 'pod/b': encodeState(pod('b')) },
      });
      const reading = recover({
        'snapshot.json': Buffer.from(snapshotJson),
        'journal.1': Buffer.from(line('pod', 'old', pod('old'))), // before the snapshot: ignored
        'journal.2': Buffer.from(
          line('pod', 'b', null) + line('pod', 'c', pod('c')) + '{"k":"pod","id":"d","v":{"po',
        ),
      });
      expect(reading.migrated).toBe(true);
      expect(loaded(reading)).toEqual({ 'pod/a': pod('a'), 'pod/c': pod('c') });
      expect(reading.lastSeq).toBe(2);
      expect(reading.lost).toBe(0);
      expect(reading.files.slice().sort()).toEqual(['journal.1', 'journal.2', 'snapshot.json']);
      expect(reading.problems).toEqual([expect.stringMatching(/^journal\.2: torn last line/)]);
    });

    it('reports a damaged line in the middle as a lost record and validates what it reads', () => {
      const reading = recover({
        'journal.0': Buffer.from(
          line('pod', 'a', pod('a')) +
            '{"k":"pod","id":"b","v":{"pod"\x00\n' +
            line('pod', 'c', { executor: 'process' }) +
            line('pod', 'd', pod('d')),
        ),
      });
      expect(reading.migrated).toBe(true);
      expect(Object.keys(loaded(reading)).sort()).toEqual(['pod/a', 'pod/d']);
      expect(reading.lost).toBe(2);
      expect(reading.problems).toEqual([
        'journal.0 line 2 is damaged: that record is lost (naming pod/b)',
        expect.stringMatching(/^journal\.0 line 3 \(pod\/c\) refused: /),
      ]);
    });
  });
});
