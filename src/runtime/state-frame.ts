/**
 * The frames the state files are made of (docs/state.md):
 *
 *   offset 0   u32 LE  payload length in bytes (≤ maxFramePayloadBytes)
 *          4   u32 LE  CRC-32C of bytes 8 … 16+length (sequence number and payload)
 *          8   u64 LE  sequence number
 *         16   payload (UTF-8 JSON)
 *
 * A file is an 8-byte magic (its kind and format version), a header frame (sequence number 0,
 * JSON), then frames. A record or snapshot object's payload is `{"k": kind, "id": id, "v":
 * value}` with the value encoded by state-codec.ts (null deletes). Reading never
 * throws on damage: {@link scanFrames} returns the valid frames and, between them, the byte
 * ranges that are not, so recovery can say what it lost.
 */

/** Magic of a journal file, format 2. */
export const journalMagic = Buffer.from('CHRNJRN2', 'latin1');
/** Magic of a snapshot file, format 2. */
export const snapshotMagic = Buffer.from('CHRNSNP2', 'latin1');
/** Bytes before a frame's payload. */
export const frameHeaderBytes = 16;
/** Largest payload a frame may hold: anything larger is damage. */
export const maxFramePayloadBytes = 64 * 1024 * 1024;

const crcTable = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli, as iSCSI and ext4 use) of `bytes[start, end)`. */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = crcTable[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** One frame holding `payload` with sequence number `seq`. */
export function encodeFrame(seq: number, payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  const frame = Buffer.allocUnsafe(frameHeaderBytes + body.length);
  frame.writeUInt32LE(body.length, 0);
  frame.writeBigUInt64LE(BigInt(seq), 8);
  body.copy(frame, frameHeaderBytes);
  frame.writeUInt32LE(crc32c(frame, 8, frame.length), 4);
  return frame;
}

/** The payload of a record setting object `id` of `kind` to `encoded` (state-codec), or deleting it (null). */
export function recordPayload(kind: string, id: string, encoded: string | null): string {
  return `{"k":${JSON.stringify(kind)},"id":${JSON.stringify(id)},"v":${encoded ?? 'null'}}`;
}

/** The start of journal `gen`, whose first record will have sequence number `firstSeq`. */
export function encodeJournalHeader(gen: number, firstSeq: number): Buffer {
  return Buffer.concat([
    journalMagic,
    encodeFrame(0, JSON.stringify({ format: 'churn-state-journal', gen, firstSeq })),
  ]);
}

/**
 * Snapshot `gen`: `objects` (`kind/id` → encoded value) as of record `lastSeq`, numbered from 1,
 * after a header that counts them.
 */
export function encodeSnapshot(
  gen: number,
  lastSeq: number,
  objects: ReadonlyMap<string, string>,
): Buffer {
  const frames: Buffer[] = [
    snapshotMagic,
    encodeFrame(
      0,
      JSON.stringify({ format: 'churn-state-snapshot', gen, lastSeq, count: objects.size }),
    ),
  ];
  let seq = 1;
  for (const [key, value] of objects) {
    const slash = key.indexOf('/');
    frames.push(
      encodeFrame(seq++, recordPayload(key.slice(0, slash), key.slice(slash + 1), value)),
    );
  }
  return Buffer.concat(frames);
}

/** A valid frame found by {@link scanFrames}. */
export interface ScannedFrame {
  readonly kind: 'frame';
  readonly offset: number;
  readonly end: number;
  readonly seq: number;
  readonly payload: string;
}

/** Bytes that are no valid frame: `damage` when a valid frame follows them, `tail` when none does. */
export interface ScannedDamage {
  readonly kind: 'damage' | 'tail';
  readonly offset: number;
  readonly end: number;
  /** Why the first frame of the range does not read: cut short, bad length, checksum mismatch. */
  readonly reason: string;
}

/**
 * The frames of `bytes` from `start`, in order, with the damaged ranges between them. After
 * a bad frame, the scan resumes at the next offset where a valid frame begins whose sequence
 * number is above the last good one (length in range, sequence above, and a 32-bit checksum:
 * a false match in damaged bytes is practically impossible).
 */
export function scanFrames(
  bytes: Buffer,
  start: number,
  afterSeq: number,
): (ScannedFrame | ScannedDamage)[] {
  const out: (ScannedFrame | ScannedDamage)[] = [];
  let pos = start;
  let lastSeq = afterSeq;
  while (pos < bytes.length) {
    const frame = readFrame(bytes, pos, lastSeq);
    if (typeof frame !== 'string') {
      out.push(frame);
      lastSeq = frame.seq;
      pos = frame.end;
      continue;
    }
    let next: ScannedFrame | undefined;
    for (let q = pos + 1; q + frameHeaderBytes <= bytes.length; q++) {
      const candidate = readFrame(bytes, q, lastSeq);
      if (typeof candidate !== 'string') {
        next = candidate;
        break;
      }
    }
    if (next === undefined) {
      out.push({ kind: 'tail', offset: pos, end: bytes.length, reason: frame });
      break;
    }
    out.push({ kind: 'damage', offset: pos, end: next.offset, reason: frame });
    pos = next.offset;
  }
  return out;
}

/** The frame at `pos`, or why there is none. Its sequence number must exceed `afterSeq`. */
export function readFrame(bytes: Buffer, pos: number, afterSeq: number): ScannedFrame | string {
  if (pos + frameHeaderBytes > bytes.length) return 'cut short';
  const length = bytes.readUInt32LE(pos);
  if (length > maxFramePayloadBytes) return 'bad length';
  const end = pos + frameHeaderBytes + length;
  if (end > bytes.length) return 'cut short';
  const seqBig = bytes.readBigUInt64LE(pos + 8);
  if (seqBig <= BigInt(afterSeq) || seqBig > BigInt(Number.MAX_SAFE_INTEGER)) {
    return 'bad sequence number';
  }
  if (crc32c(bytes, pos + 8, end) !== bytes.readUInt32LE(pos + 4)) return 'checksum mismatch';
  return {
    kind: 'frame',
    offset: pos,
    end,
    seq: Number(seqBig),
    payload: bytes.toString('utf8', pos + frameHeaderBytes, end),
  };
}
