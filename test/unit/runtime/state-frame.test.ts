// The frames of the state files: checksums, sequence numbers, and what a scan makes of torn,
// flipped and out-of-order bytes. No files: bytes in, frames and damaged ranges out.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  crc32c,
  encodeFrame,
  frameHeaderBytes,
  maxFramePayloadBytes,
  readFrame,
  scanFrames,
} from '../../../src/runtime/state-frame.js';

/** Frames with sequence numbers `seqs` and payloads `p<seq>`, concatenated, with their offsets. */
function frames(seqs: readonly number[]): { bytes: Buffer; offsets: number[] } {
  const parts = seqs.map((seq) => encodeFrame(seq, `{"p":${seq}}`));
  const offsets: number[] = [];
  let at = 0;
  for (const p of parts) {
    offsets.push(at);
    at += p.length;
  }
  return { bytes: Buffer.concat(parts), offsets };
}

function summary(items: ReturnType<typeof scanFrames>): string[] {
  return items.map((i) =>
    i.kind === 'frame' ? `frame ${i.seq}` : `${i.kind} ${i.offset}-${i.end} ${i.reason}`,
  );
}

describe('crc32c', () => {
  it('is CRC-32C (Castagnoli), not CRC-32', () => {
    // The check value of the CRC-32C catalogue entry (CRC-32 would give cbf43926).
    expect(crc32c(Buffer.from('123456789')).toString(16)).toBe('e3069283');
    expect(crc32c(Buffer.alloc(32)).toString(16)).toBe('8a9136aa');
  });
});

describe('frames', () => {
  it('read back what was encoded, with the bytes they span', () => {
    const frame = encodeFrame(42, '{"k":"pod","id":"é"}');
    const read = readFrame(frame, 0, 41);
    expect(read).toEqual({
      kind: 'frame',
      offset: 0,
      end: frame.length,
      seq: 42,
      payload: '{"k":"pod","id":"é"}',
    });
    expect(frame.readUInt32LE(0)).toBe(frame.length - frameHeaderBytes);
  });

  it('are refused when their sequence number is not above the last one read', () => {
    const frame = encodeFrame(5, '{}');
    expect(readFrame(frame, 0, 4)).toMatchObject({ kind: 'frame', seq: 5 });
    expect(readFrame(frame, 0, 5)).toBe('bad sequence number');
    expect(readFrame(frame, 0, 9)).toBe('bad sequence number');
  });

  it('are refused when cut short, too long, or changed', () => {
    const frame = encodeFrame(1, '{"a":1}');
    expect(readFrame(frame.subarray(0, frameHeaderBytes - 1), 0, 0)).toBe('cut short');
    expect(readFrame(frame.subarray(0, frame.length - 1), 0, 0)).toBe('cut short');
    const long = Buffer.from(frame);
    long.writeUInt32LE(maxFramePayloadBytes + 1, 0);
    expect(readFrame(long, 0, 0)).toBe('bad length');
    const flipped = Buffer.from(frame);
    flipped[frame.length - 2]! ^= 0x01;
    expect(readFrame(flipped, 0, 0)).toBe('checksum mismatch');
    const seqChanged = Buffer.from(frame);
    seqChanged.writeBigUInt64LE(2n, 8); // still above 0, but the checksum covers it
    expect(readFrame(seqChanged, 0, 0)).toBe('checksum mismatch');
  });
});

describe('scanFrames', () => {
  it('reports a torn tail after the last whole frame', () => {
    const { bytes, offsets } = frames([1, 2, 3]);
    const torn = bytes.subarray(0, bytes.length - 3);
    expect(summary(scanFrames(torn, 0, 0))).toEqual([
      'frame 1',
      'frame 2',
      `tail ${offsets[2]!}-${torn.length} cut short`,
    ]);
  });

  it('skips exactly the frame a flipped byte damaged and resumes at the next one', () => {
    const { bytes, offsets } = frames([1, 2, 3, 4]);
    const damaged = Buffer.from(bytes);
    damaged[offsets[1]! + frameHeaderBytes + 2]! ^= 0xff;
    expect(summary(scanFrames(damaged, 0, 0))).toEqual([
      'frame 1',
      `damage ${offsets[1]!}-${offsets[2]!} checksum mismatch`,
      'frame 3',
      'frame 4',
    ]);
  });

  it('treats a frame whose sequence number does not increase as damage', () => {
    // A record written twice (2, 2) and one from the past (1) after 3: neither is replayed.
    const { bytes, offsets } = frames([1, 2, 2, 3, 1, 4]);
    expect(summary(scanFrames(bytes, 0, 0))).toEqual([
      'frame 1',
      'frame 2',
      `damage ${offsets[2]!}-${offsets[3]!} bad sequence number`,
      'frame 3',
      `damage ${offsets[4]!}-${offsets[5]!} bad sequence number`,
      'frame 4',
    ]);
    // Frames at or below `afterSeq` (already read from an earlier file) are not read again.
    expect(summary(scanFrames(bytes, offsets[3]!, 3))).toEqual([
      `damage ${offsets[3]!}-${offsets[5]!} bad sequence number`,
      'frame 4',
    ]);
  });

  it('never throws and never invents a frame, whatever bytes are changed or cut', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), {
          maxLength: 3,
        }),
        fc.nat(),
        (count, flips, cut) => {
          const seqs = Array.from({ length: count }, (_, i) => i + 1);
          const { bytes, offsets } = frames(seqs);
          const damaged = Buffer.from(bytes.subarray(0, bytes.length - (cut % 8)));
          const touched = new Set<number>();
          for (const f of flips) {
            const at = f.at % damaged.length;
            damaged[at]! ^= f.xor;
            touched.add(at);
          }
          const items = scanFrames(damaged, 0, 0);
          // Items tile the bytes in order, frames are originals at their own offsets.
          let pos = 0;
          let lastSeq = 0;
          for (const item of items) {
            expect(item.offset).toBe(pos);
            pos = item.end;
            if (item.kind !== 'frame') continue;
            expect(item.seq).toBeGreaterThan(lastSeq);
            lastSeq = item.seq;
            expect(item.offset).toBe(offsets[item.seq - 1]);
            expect(item.payload).toBe(`{"p":${item.seq}}`);
          }
          expect(pos).toBe(damaged.length);
          // Every frame no change touched and the cut left whole is found.
          const found = new Set(items.flatMap((i) => (i.kind === 'frame' ? [i.seq] : [])));
          for (const seq of seqs) {
            const start = offsets[seq - 1]!;
            const end = seq < count ? offsets[seq]! : bytes.length;
            const intact =
              end <= damaged.length && ![...touched].some((t) => t >= start && t < end);
            if (intact) expect(found.has(seq)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
