import hpack from 'hpack.js';
import { describe, expect, it } from 'vitest';
import {
  AuthorityRewriter,
  clientPreface,
  encodeLiterals,
  goawayFrame,
  Http2ConnectionError,
} from '../../../src/cri/authority-rewriter.js';

/** One HTTP/2 frame. */
function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return Buffer.concat([h, payload]);
}

/** A string literal, raw (H=0), length < 127. */
function str(text: string): Buffer {
  const b = Buffer.from(text, 'latin1');
  return Buffer.concat([Buffer.from([b.length]), b]);
}

/** Literal with incremental indexing, name by static index (RFC 7541 §6.2.1). */
function indexedName(staticIndex: number, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x40 | staticIndex]), str(value)]);
}

/** Indexed field (RFC 7541 §6.1). */
const indexed = (index: number): Buffer => Buffer.from([0x80 | index]);

// Static table: 1 :authority, 3 :method POST, 6 :scheme http, 4 :path /.
const firstBlock = Buffer.concat([
  indexed(3),
  indexed(6),
  indexedName(4, '/runtime.v1.RuntimeService/Version'),
  indexedName(1, '/run/containerd/containerd.sock'),
  Buffer.concat([Buffer.from([0x40]), str('content-type'), str('application/grpc')]),
]);
// The same request again, all from the dynamic table (62 newest … 64 oldest).
const secondBlock = Buffer.concat([indexed(3), indexed(6), indexed(64), indexed(63), indexed(62)]);

/** Parses `bytes` (after the preface) into frames. */
function frames(
  bytes: Buffer,
): { type: number; flags: number; streamId: number; payload: Buffer }[] {
  const out = [];
  let rest = bytes;
  while (rest.length >= 9) {
    const length = rest.readUIntBE(0, 3);
    out.push({
      type: rest[3]!,
      flags: rest[4]!,
      streamId: rest.readUInt32BE(5),
      payload: rest.subarray(9, 9 + length),
    });
    rest = rest.subarray(9 + length);
  }
  expect(rest.length).toBe(0);
  return out;
}

/** Decodes header blocks with a fresh decoder, as the server behind would. */
function serverDecode(blocks: Buffer[]): { name: string; value: string }[][] {
  const d = hpack.decompressor.create({ table: { size: 4096 } });
  return blocks.map((b) => {
    d.write(b);
    d.execute();
    const fields = [];
    for (let f = d.read(); f !== null; f = d.read()) fields.push({ name: f.name, value: f.value });
    return fields;
  });
}

const settings = frame(0x4, 0, 0, Buffer.from([0, 4, 0, 0, 0xff, 0xff]));
const settingsAck = frame(0x4, 0x1, 0, Buffer.alloc(0));
const data = (sid: number): Buffer => frame(0x0, 0x1, sid, Buffer.from([0, 0, 0, 0, 0]));

describe('AuthorityRewriter', () => {
  it("rewrites every request's :authority, keeping the client's HPACK state in step", () => {
    const r = new AuthorityRewriter();
    const input = Buffer.concat([
      clientPreface,
      settings,
      frame(0x1, 0x4, 1, firstBlock),
      data(1),
      frame(0x1, 0x4, 3, secondBlock),
      data(3),
    ]);
    const out = Buffer.concat(r.push(input));
    expect(out.subarray(0, 24)).toEqual(clientPreface);
    const fs = frames(out.subarray(24));
    expect(fs.map((f) => f.type)).toEqual([0x4, 0x1, 0x0, 0x1, 0x0]);
    const blocks = serverDecode(fs.filter((f) => f.type === 0x1).map((f) => f.payload));
    for (const fields of blocks) {
      expect(fields).toEqual([
        { name: ':method', value: 'POST' },
        { name: ':scheme', value: 'http' },
        { name: ':path', value: '/runtime.v1.RuntimeService/Version' },
        { name: ':authority', value: 'localhost' },
        { name: 'content-type', value: 'application/grpc' },
      ]);
    }
    expect(r.firstAuthority).toBe('/run/containerd/containerd.sock');
    // Everything else passes through byte for byte.
    expect(fs[0]!.payload).toEqual(settings.subarray(9));
    expect(fs[2]!.payload).toEqual(data(1).subarray(9));
  });

  it('gives the same output whatever the chunking (one byte at a time)', () => {
    const input = Buffer.concat([clientPreface, settings, frame(0x1, 0x4, 1, firstBlock), data(1)]);
    const whole = Buffer.concat(new AuthorityRewriter().push(input));
    const r = new AuthorityRewriter();
    const parts: Buffer[] = [];
    for (let i = 0; i < input.length; i++) parts.push(...r.push(input.subarray(i, i + 1)));
    expect(Buffer.concat(parts)).toEqual(whole);
  });

  it('joins CONTINUATIONs, drops padding, keeps priority and END_STREAM', () => {
    const r = new AuthorityRewriter();
    const padded = Buffer.concat([
      Buffer.from([3]), // pad length
      Buffer.from([0x80, 0, 0, 0, 16]), // priority: exclusive, depends on 0, weight 16
      firstBlock.subarray(0, 10),
      Buffer.alloc(3),
    ]);
    const input = Buffer.concat([
      clientPreface,
      frame(0x1, 0x1 | 0x8 | 0x20, 5, padded),
      frame(0x9, 0x4, 5, firstBlock.subarray(10)),
    ]);
    const fs = frames(Buffer.concat(r.push(input)).subarray(24));
    expect(fs).toHaveLength(1);
    expect(fs[0]!.flags).toBe(0x1 | 0x4 | 0x20);
    expect(fs[0]!.payload.subarray(0, 5)).toEqual(Buffer.from([0x80, 0, 0, 0, 16]));
    expect(serverDecode([fs[0]!.payload.subarray(5)])[0]).toContainEqual({
      name: ':authority',
      value: 'localhost',
    });
  });

  it('splits a rewritten block larger than a frame into HEADERS and CONTINUATIONs', () => {
    const big = encodeLiterals([
      { name: ':authority', value: 'x' },
      { name: 'x-big', value: 'v'.repeat(40_000) },
    ]);
    const input = Buffer.concat([
      clientPreface,
      frame(0x1, 0, 1, big.subarray(0, 16_000)),
      frame(0x9, 0, 1, big.subarray(16_000, 32_000)),
      frame(0x9, 0x4, 1, big.subarray(32_000)),
    ]);
    const fs = frames(Buffer.concat(new AuthorityRewriter().push(input)).subarray(24));
    expect(fs.map((f) => [f.type, f.flags & 0x4])).toEqual([
      [0x1, 0],
      [0x9, 0],
      [0x9, 0x4],
    ]);
    expect(Math.max(...fs.map((f) => f.payload.length))).toBeLessThanOrEqual(16_384);
    const [fields] = serverDecode([Buffer.concat(fs.map((f) => f.payload))]);
    expect(fields).toEqual([
      { name: ':authority', value: 'localhost' },
      { name: 'x-big', value: 'v'.repeat(40_000) },
    ]);
  });

  it("drops exactly the client's first SETTINGS ACK when asked, and keeps the original bytes", () => {
    const r = new AuthorityRewriter('localhost', true);
    const input = Buffer.concat([
      clientPreface,
      settings,
      settingsAck,
      frame(0x1, 0x4, 1, firstBlock),
      settingsAck,
    ]);
    const fs = frames(Buffer.concat(r.push(input)).subarray(24));
    expect(fs.map((f) => [f.type, f.flags])).toEqual([
      [0x4, 0],
      [0x1, 0x4],
      [0x4, 0x1],
    ]);
    expect(r.settingsAckDropped).toBe(true);
    expect(Buffer.concat(r.original)).toEqual(
      Buffer.concat([clientPreface, settings, frame(0x1, 0x4, 1, firstBlock), settingsAck]),
    );
  });

  it.each([
    ['a preface that is not HTTP/2', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 0x1],
    [
      'a frame inside a header block',
      Buffer.concat([clientPreface, frame(0x1, 0, 1, firstBlock.subarray(0, 4)), data(1)]),
      0x1,
    ],
    [
      'a CONTINUATION of another stream',
      Buffer.concat([clientPreface, frame(0x1, 0, 1, firstBlock), frame(0x9, 0x4, 3, secondBlock)]),
      0x1,
    ],
    [
      'an index beyond the tables',
      Buffer.concat([clientPreface, frame(0x1, 0x4, 1, indexed(100))]),
      0x9,
    ],
  ])('refuses %s as a connection error', (_name, input, code) => {
    const r = new AuthorityRewriter();
    let err: unknown;
    try {
      r.push(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Http2ConnectionError);
    expect((err as Http2ConnectionError).code).toBe(code);
    expect(goawayFrame(code).readUInt32BE(13)).toBe(code);
  });
});
