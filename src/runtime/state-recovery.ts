/**
 * Reading a state directory back (docs/state.md): the newest valid snapshot, then every
 * journal record after it in sequence order. Damage never stops the reading and never passes
 * silently: each torn tail, damaged byte range, missing record range, unreadable snapshot and
 * record refused by validation becomes a sentence in `problems` saying what was lost. Only when
 * no valid snapshot is left and the journals do not reach back to the first record does it
 * refuse (DATA_LOSS), changing nothing. Format 1 (JSON lines, snapshot.json) is read too, for
 * migration. This module only reads; StateJournal.open decides what to do with the files.
 * {@link recoverState} is pure (file names and bytes in, state and problems out), so every
 * rule is unit-tested without a disk; {@link readState} reads a directory into it.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ChurnError } from '../common/errors.js';
import {
  journalMagic,
  readFrame,
  scanFrames,
  snapshotMagic,
  type ScannedDamage,
  type ScannedFrame,
} from './state-frame.js';
import { decodeState, encodeState } from './state-codec.js';

/** Checks a decoded object of one kind: undefined when valid, else what is wrong. */
export type StateValidator = (value: unknown) => string | undefined;

/** Validators by kind; a record of a kind without one is refused. */
export type StateValidators = Readonly<Record<string, StateValidator>>;

/** What recovery read and what it lost. */
export interface StateReading {
  /** `kind/id` → encoded object. */
  readonly objects: Map<string, string>;
  /** Sequence number of the last record applied (0 when none). */
  readonly lastSeq: number;
  /** Highest generation of any state file (-1 when none). */
  readonly maxGen: number;
  /** Generation of the snapshot the state was built on, if any. */
  readonly baseGen: number | undefined;
  /** Names of the state files found (snapshots and journals of either format). */
  readonly files: readonly string[];
  /** Journal records replayed. */
  readonly records: number;
  /** What the state was built from, e.g. `snapshot.3 + journal.3–4`. */
  readonly from: string;
  /** The directory held format 1 (JSON lines). */
  readonly migrated: boolean;
  /** Records known lost (damaged, missing or refused). */
  readonly lost: number;
  /** One sentence per problem, saying what was lost. */
  readonly problems: readonly string[];
}

interface RecordBody {
  readonly k: string;
  readonly id: string;
  readonly v: unknown;
}

interface SnapshotRead {
  readonly gen: number;
  readonly lastSeq: number;
  readonly objects: Map<string, string>;
}

/** Reads the state in `dir`; throws DATA_LOSS when the state cannot be rebuilt (see module). */
export async function readState(
  dir: string,
  validators: StateValidators | undefined,
): Promise<StateReading> {
  const files = new Map<string, Buffer>();
  for (const name of await readdir(dir)) {
    if (!isStateFile(name)) continue;
    try {
      files.set(name, await readFile(join(dir, name)));
    } catch (err) {
      // Removed since readdir (by a compaction of a journal still open elsewhere): not state.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return recoverState(dir, files, validators);
}

/** Whether `name` is a state file of either format (what recovery reads and may keep aside). */
export function isStateFile(name: string): boolean {
  return /^(journal|snapshot)\.(\d+|json)$/.test(name);
}

/**
 * The state held by `files` (name → bytes, the state files of directory `dir`, which only
 * names it in messages); throws DATA_LOSS when it cannot be rebuilt (see the module comment).
 */
export function recoverState(
  dir: string,
  files: ReadonlyMap<string, Buffer>,
  validators: StateValidators | undefined,
): StateReading {
  const names = [...files.keys()].filter(isStateFile);
  const journals = numbered(names, /^journal\.(\d+)$/);
  const snapshots = numbered(names, /^snapshot\.(\d+)$/);
  const journalBytes = new Map<number, Buffer>();
  for (const n of journals) journalBytes.set(n, files.get(`journal.${n}`)!);
  const maxGen = Math.max(-1, ...journals, ...snapshots);
  const v1 =
    snapshots.length === 0 &&
    (names.includes('snapshot.json') ||
      [...journalBytes.values()].some((b) => b.length > 0 && b[0] === 0x7b));
  const reader = new Reader(dir, files, validators);
  if (v1) reader.readV1(journals, journalBytes, files.get('snapshot.json'));
  else reader.readV2(journals, journalBytes, snapshots);
  return {
    objects: reader.objects,
    lastSeq: reader.lastSeq,
    maxGen,
    baseGen: reader.baseGen,
    files: names,
    records: reader.records,
    from: reader.from,
    migrated: v1,
    lost: reader.lost,
    problems: reader.problems,
  };
}

function numbered(names: readonly string[], pattern: RegExp): number[] {
  return names
    .map((name) => pattern.exec(name))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

class Reader {
  readonly objects = new Map<string, string>();
  readonly problems: string[] = [];
  lastSeq = 0;
  records = 0;
  lost = 0;
  baseGen: number | undefined;
  from = 'nothing (a new state directory)';
  readonly #dir: string;
  readonly #files: ReadonlyMap<string, Buffer>;
  readonly #validators: StateValidators | undefined;

  constructor(
    dir: string,
    files: ReadonlyMap<string, Buffer>,
    validators: StateValidators | undefined,
  ) {
    this.#dir = dir;
    this.#files = files;
    this.#validators = validators;
  }

  readV2(
    journals: readonly number[],
    bytes: ReadonlyMap<number, Buffer>,
    snapshots: readonly number[],
  ): void {
    let base: SnapshotRead | undefined;
    for (const gen of [...snapshots].reverse()) {
      const read = this.#readSnapshot(gen);
      if (typeof read !== 'string') {
        base = read;
        break;
      }
      this.problems.push(`snapshot.${gen} is unusable (${read})`);
    }
    const newestJournal = journals.at(-1);
    if (base !== undefined && newestJournal !== undefined && newestJournal > base.gen) {
      if (!snapshots.includes(newestJournal)) {
        this.problems.push(
          `snapshot.${newestJournal} is missing (a crash during a compaction, or deleted)`,
        );
      }
    }
    if (base === undefined && snapshots.length === 0 && journals.length > 0) {
      this.problems.push('no snapshot is left (deleted?)');
    }
    const chain = journals.filter((n) => base === undefined || n >= base.gen);
    if (base === undefined && chain.length > 0) {
      // Rebuilt from the journals alone: only if they reach back to the first record.
      const first = journalHeader(bytes.get(chain[0]!)!);
      if (typeof first === 'string' || first.firstSeq !== 1) {
        throw new ChurnError(
          'DATA_LOSS',
          `state in ${this.#dir} cannot be recovered: ${this.problems.join('; ')}; journal.${String(chain[0])} ` +
            `${typeof first === 'string' ? `has no readable header (${first})` : `starts at record ${first.firstSeq}`}, ` +
            'so the records before it are in no readable file. Nothing was changed; ' +
            'move the directory aside to start empty.',
        );
      }
    }
    if (base !== undefined) {
      for (const [k, v] of base.objects) this.objects.set(k, v);
      this.lastSeq = base.lastSeq;
      this.baseGen = base.gen;
    }
    for (const n of chain) this.#readJournalV2(n, bytes.get(n)!, n === newestJournal);
    if (base !== undefined || chain.length > 0) {
      const parts = base === undefined ? [] : [`snapshot.${base.gen}`];
      if (chain.length > 0)
        parts.push(
          chain.length === 1
            ? `journal.${String(chain[0])}`
            : `journal.${String(chain[0])}–${String(chain.at(-1))}`,
        );
      this.from = parts.join(' + ');
    }
  }

  readV1(
    journals: readonly number[],
    bytes: ReadonlyMap<number, Buffer>,
    snapshotJson: Buffer | undefined,
  ): void {
    const hasSnapshot = snapshotJson !== undefined;
    let gen = 0;
    if (hasSnapshot) {
      try {
        const snap = JSON.parse(snapshotJson.toString('utf8')) as {
          gen: number;
          objects: Record<string, string> | null;
        };
        if (
          !Number.isInteger(snap.gen) ||
          typeof snap.objects !== 'object' ||
          snap.objects === null
        )
          throw new Error('not a snapshot');
        // Parsed whole before anything is applied: a bad one makes the snapshot unreadable.
        const bodies = Object.entries(snap.objects).map(([key, value]): RecordBody => {
          const slash = key.indexOf('/');
          if (slash <= 0 || typeof value !== 'string') throw new Error(`bad object ${key}`);
          return { k: key.slice(0, slash), id: key.slice(slash + 1), v: JSON.parse(value) };
        });
        gen = snap.gen;
        for (const body of bodies) this.#apply('snapshot.json', body);
      } catch (err) {
        const usable = journals.filter((n) => n >= 0);
        if (usable[0] !== 0) {
          throw new ChurnError(
            'DATA_LOSS',
            `state in ${this.#dir} cannot be recovered: snapshot.json (format 1) is unreadable ` +
              `(${(err as Error).message}) and journal.0 is gone. Nothing was changed; ` +
              'move the directory aside to start empty.',
            { cause: err },
          );
        }
        this.problems.push(
          `snapshot.json (format 1) is unreadable (${(err as Error).message}): rebuilt from the journals`,
        );
      }
    }
    const chain = journals.filter((n) => n >= gen);
    const newest = chain.at(-1);
    for (const n of chain) {
      const lines = bytes.get(n)!.toString('utf8').split('\n');
      while (lines.length > 0 && lines.at(-1) === '') lines.pop();
      lines.forEach((line, i) => {
        let body: RecordBody;
        try {
          body = JSON.parse(line) as RecordBody;
        } catch {
          const keys = keysIn(line);
          if (n === newest && i === lines.length - 1) {
            this.problems.push(
              `journal.${n}: torn last line (${Buffer.byteLength(line)} bytes) dropped: a write cut short`,
            );
          } else {
            this.lost += 1;
            this.problems.push(`journal.${n} line ${i + 1} is damaged: that record is lost${keys}`);
          }
          return;
        }
        this.lastSeq += 1;
        this.records += 1;
        this.#apply(`journal.${n} line ${i + 1}`, body);
      });
    }
    this.from = `format 1: ${hasSnapshot ? 'snapshot.json + ' : ''}${chain.length} journal(s)`;
  }

  #readSnapshot(gen: number): SnapshotRead | string {
    const bytes = this.#files.get(`snapshot.${gen}`);
    if (bytes === undefined) return 'missing';
    if (!bytes.subarray(0, 8).equals(snapshotMagic)) return 'not a snapshot: bad magic';
    const head = readFrame(bytes, 8, -1);
    if (typeof head === 'string') return `header: ${head}`;
    let header: { gen: number; lastSeq: number; count: number };
    try {
      header = JSON.parse(head.payload) as typeof header;
    } catch {
      return 'header: not JSON';
    }
    if (header.gen !== gen || !Number.isSafeInteger(header.lastSeq) || header.lastSeq < 0)
      return 'header: does not match its name';
    // Each object's value as the journal holds it: already encoded (bigints tagged), so it is
    // kept as that JSON text, never encoded a second time.
    const objects = new Map<string, string>();
    const frames = scanFrames(bytes, head.end, 0);
    for (const f of frames) {
      if (f.kind !== 'frame') return `bytes ${f.offset}–${f.end}: ${f.reason}`;
      const body = parseBody(f.payload);
      if (typeof body === 'string') return `object ${f.seq}: ${body}`;
      if (body.v === null) return `object ${f.seq}: no value`;
      objects.set(`${body.k}/${body.id}`, JSON.stringify(body.v));
    }
    if (frames.length !== header.count)
      return `holds ${frames.length} objects, its header says ${header.count}`;
    // Validation of snapshot objects happens like that of records: a refused one is dropped.
    const checked = new Map<string, string>();
    for (const [key, value] of objects) {
      const slash = key.indexOf('/');
      const problem = this.#check(key.slice(0, slash), value);
      if (typeof problem !== 'string') checked.set(key, problem.encoded);
      else {
        this.lost += 1;
        this.problems.push(`snapshot.${gen}: ${key} refused: ${problem}`);
      }
    }
    return { gen, lastSeq: header.lastSeq, objects: checked };
  }

  #readJournalV2(n: number, bytes: Buffer, newest: boolean): void {
    const name = `journal.${n}`;
    const header = journalHeader(bytes);
    let start = 8;
    if (typeof header === 'string') {
      if (bytes.length < 8 + 16 && newest) {
        if (bytes.length > 0)
          this.problems.push(`${name}: torn header (${bytes.length} bytes) dropped`);
        return;
      }
      this.problems.push(`${name}: header unreadable (${header})`);
    } else {
      start = header.end;
      if (header.firstSeq > this.lastSeq + 1) this.#lostRange(name, header.firstSeq - 1, '');
    }
    const items = scanFrames(bytes, start, this.lastSeq);
    for (const [i, item] of items.entries()) {
      if (item.kind === 'frame') {
        if (item.seq > this.lastSeq + 1) this.#lostRange(name, item.seq - 1, '');
        this.lastSeq = item.seq;
        this.records += 1;
        const body = parseBody(item.payload);
        if (typeof body === 'string') {
          this.lost += 1;
          this.problems.push(`${name} record ${item.seq} refused: ${body}`);
        } else this.#apply(`${name} record ${item.seq}`, body);
        continue;
      }
      const next = items[i + 1] as ScannedFrame | undefined;
      this.#damage(name, bytes, item, next, newest);
    }
  }

  #damage(
    name: string,
    bytes: Buffer,
    item: ScannedDamage,
    next: ScannedFrame | undefined,
    newest: boolean,
  ): void {
    const size = item.end - item.offset;
    const keys = keysIn(bytes.toString('latin1', item.offset, item.end));
    if (item.kind === 'tail' && newest) {
      this.problems.push(
        `${name}: torn tail of ${size} bytes at offset ${item.offset} (${item.reason}) dropped: ` +
          `a write cut short by a crash or a full disk${keys}`,
      );
      return;
    }
    const at = `${name}: ${size} bytes at offset ${item.offset} are damaged (${item.reason})`;
    if (next !== undefined && next.seq > this.lastSeq + 1) this.#lostRange(at, next.seq - 1, keys);
    else
      this.problems.push(
        next === undefined
          ? `${at}: the records in them, if any, are lost${keys}`
          : `${at}: no record lost`,
      );
  }

  /** Records lastSeq+1 … `upTo` are in no readable file. */
  #lostRange(where: string, upTo: number, keys: string): void {
    const from = this.lastSeq + 1;
    const count = upTo - from + 1;
    this.lost += count;
    this.problems.push(
      `${where}: ${count === 1 ? `record ${from} is` : `records ${from}–${upTo} (${count}) are`} ` +
        `lost${keys}; the objects they changed are as the records before left them`,
    );
    this.lastSeq = upTo;
  }

  #apply(where: string, body: RecordBody): void {
    const key = `${body.k}/${body.id}`;
    if (body.v === null) {
      this.objects.delete(key);
      return;
    }
    const checked = this.#check(body.k, JSON.stringify(body.v));
    if (typeof checked === 'string') {
      this.lost += 1;
      this.problems.push(
        `${where} (${key}) refused: ${checked}; ${this.objects.has(key) ? 'kept as the records before left it' : 'not recovered'}`,
      );
      return;
    }
    this.objects.set(key, checked.encoded);
  }

  /**
   * An object of `kind` as stored (`stored`: encoded JSON, bigints tagged), decoded and
   * validated: its canonical encoding, or why it is refused.
   */
  #check(kind: string, stored: string): { encoded: string } | string {
    let value: unknown;
    try {
      value = decodeState(stored);
    } catch (err) {
      return (err as Error).message;
    }
    if (this.#validators !== undefined) {
      const validator = this.#validators[kind];
      if (validator === undefined) return `unknown kind "${kind}"`;
      const problem = validator(value);
      if (problem !== undefined) return problem;
    }
    return { encoded: encodeState(value) };
  }
}

/** The header of a format-2 journal, or why it does not read. */
function journalHeader(bytes: Buffer): { firstSeq: number; end: number } | string {
  if (bytes.length < 8 || !bytes.subarray(0, 8).equals(journalMagic)) return 'bad magic';
  const head = readFrame(bytes, 8, -1);
  if (typeof head === 'string') return head;
  try {
    const h = JSON.parse(head.payload) as { firstSeq?: unknown };
    if (typeof h.firstSeq !== 'number' || !Number.isSafeInteger(h.firstSeq) || h.firstSeq < 1)
      return 'bad first sequence number';
    return { firstSeq: h.firstSeq, end: head.end };
  } catch {
    return 'not JSON';
  }
}

/** A record's body `{k, id, v}`, or what is wrong with it. */
function parseBody(payload: string): RecordBody | string {
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return 'not JSON';
  }
  if (typeof body !== 'object' || body === null) return 'not an object';
  const { k, id, v } = body as Record<string, unknown>;
  if (typeof k !== 'string' || k === '' || k.includes('/') || typeof id !== 'string' || id === '')
    return 'no kind and id';
  if (v === undefined) return 'no value';
  return { k, id, v };
}

/** ` (pod/…, container/…)`: the objects damaged bytes still name, if any. */
function keysIn(text: string): string {
  const keys = new Set<string>();
  for (const m of text.matchAll(/"k":"([a-z]{1,32})","id":"([^"\\]{1,128})"/g))
    keys.add(`${m[1] ?? ''}/${m[2] ?? ''}`);
  return keys.size === 0 ? '' : ` (naming ${[...keys].join(', ')})`;
}
