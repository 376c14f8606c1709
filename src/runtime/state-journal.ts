/**
 * Persisted state of pods and containers: append-only journals with snapshots (format 2;
 * docs/state.md has the byte layout and the recovery rules).
 *
 *   <dir>/snapshot.<G>   every object as of the start of generation G, one framed object each
 *   <dir>/journal.<G>    one framed record per mutation ({k, id, v}; v null deletes)
 *
 * Every frame carries its length, a CRC-32C and a sequence number that runs on across
 * generations, so recovery tells a torn tail from damage in the middle and knows exactly which
 * records a damaged range held. A mutation is appended (group commit: the mutations of one turn
 * of the event loop go out together in one write, in order) and, with `durable` (the default),
 * fdatasynced before its promise resolves: what was acknowledged survives kill -9 and power
 * loss. One fdatasync runs at a time and the next covers every write made meanwhile, so
 * requests arriving on turns of their own share their syncs too. The in-memory copy of the state (what the next snapshot holds) changes only once the
 * write succeeded, so a failed write leaves no trace in a later snapshot either.
 *
 * A write that fails (ENOSPC: RESOURCE_EXHAUSTED) is cut back off the file, so the next one
 * follows whole frames, and reported to `onError`. An fdatasync that fails leaves the file's
 * content unknown: the journal refuses every later mutation (UNAVAILABLE) until reopened.
 *
 * When the journal outgrows the live state, a new generation starts and its snapshot is
 * written atomically (temporary file, fsync, rename). The previous snapshot and the journals
 * after it stay until the next one, so a lost or damaged newest snapshot is rebuilt from them.
 * Opening recovers (state-recovery.ts), starts a new generation, and moves the files it read
 * into `recovery-<time>/` when it found any problem or migrated format 1: recovery never
 * deletes what it could not read.
 *
 * Why a journal and not a file per object: replacing a file by rename costs ~0.4–1 ms on this
 * ext4, an append ~3 µs (synchronous: a thread-pool round trip costs more than the write), and
 * the core makes ~2000 mutations/s under churn; the fdatasync of a group goes to the pool.
 */
import {
  closeSync,
  fdatasync,
  fsyncSync,
  ftruncateSync,
  openSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { chmod, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';
import { ChurnError } from '../common/errors.js';
import { decodeState, encodeState } from './state-codec.js';
import { encodeFrame, encodeJournalHeader, encodeSnapshot, recordPayload } from './state-frame.js';
import { readState, type StateValidators } from './state-recovery.js';

export type { StateValidator, StateValidators } from './state-recovery.js';

/** What {@link StateJournal.open} recovered, and what it could not. */
export interface StateRecovery {
  /** Objects recovered. */
  readonly objects: number;
  /** Journal records replayed. */
  readonly records: number;
  /** What the state was built from, e.g. `snapshot.3 + journal.3–4`. */
  readonly from: string;
  /** The directory held format 1 (JSON lines), now migrated. */
  readonly migrated: boolean;
  /** Records known lost (damaged, missing, or refused by validation). */
  readonly lost: number;
  /** One sentence per problem, saying what was lost; empty after a clean recovery. */
  readonly problems: readonly string[];
  /** Where the files read were moved, when there were problems or a migration. */
  readonly keptAside: string | undefined;
}

interface Pending {
  readonly key: string;
  /** Encoded object, or null for a deletion. */
  readonly value: string | null;
  readonly payload: string;
  resolve(): void;
  reject(err: unknown): void;
}

/** Options of {@link StateJournal.open}. */
export interface StateJournalOptions {
  /** fdatasync every group commit before acknowledging it. Default true. */
  readonly durable?: boolean;
  /** Journal records after which a compaction is considered. Default 20000. */
  readonly compactAfterLines?: number;
  /**
   * Validators by kind: a recovered object that fails its kind's validator (or has a kind
   * without one) is refused and reported, never loaded. Default: every object accepted.
   */
  readonly validators?: StateValidators;
  /** Told about every failed write, fsync or compaction (serve logs it). Default: nothing. */
  readonly onError?: (message: string) => void;
}

const fdatasyncAsync = promisify(fdatasync);

/** The journal; see the module comment. */
export class StateJournal {
  readonly #dir: string;
  readonly #durable: boolean;
  readonly #compactAfterLines: number;
  readonly #onError: (message: string) => void;
  /** The live objects, encoded, as of the last successful write: what a snapshot holds. */
  readonly #objects = new Map<string, string>();
  #recovery!: StateRecovery;
  #gen: number;
  #fd: number;
  /** Bytes of the current journal that hold whole frames. */
  #size: number;
  /** Sequence number of the next record. */
  #nextSeq: number;
  /** Generation of the newest snapshot written: older files go once a newer one is written. */
  #keepFrom: number;
  #lines = 0;
  #queue: Pending[] = [];
  #flushScheduled = false;
  /** The chain of syncs: one runs at a time, each covering every group written before it. */
  #syncing: Promise<void> = Promise.resolve();
  /** Groups written but not yet synced, in order, with the file each went to. */
  #unsynced: { readonly fd: number; readonly group: readonly Pending[] }[] = [];
  /** A sync is queued on #syncing that has not yet taken #unsynced. */
  #syncQueued = false;
  #compacting: Promise<void> | undefined;
  /** Set once an fdatasync failed: every later mutation is refused. */
  #failed: ChurnError | undefined;
  #closed = false;

  private constructor(
    dir: string,
    gen: number,
    opened: { fd: number; size: number },
    nextSeq: number,
    options: StateJournalOptions,
  ) {
    this.#dir = dir;
    this.#gen = gen;
    this.#fd = opened.fd;
    this.#size = opened.size;
    this.#nextSeq = nextSeq;
    this.#keepFrom = gen;
    this.#durable = options.durable ?? true;
    this.#compactAfterLines = options.compactAfterLines ?? 20_000;
    this.#onError = options.onError ?? (() => undefined);
  }

  /**
   * Opens the journal in `dir` (created 0700 when missing, made 0700 when not), recovering
   * what is there (see the module comment). Throws DATA_LOSS when the state cannot be rebuilt
   * (nothing changed then), RESOURCE_EXHAUSTED when the disk is full, IO otherwise.
   */
  static async open(dir: string, options: StateJournalOptions = {}): Promise<StateJournal> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    const reading = await readState(dir, options.validators);
    const gen = reading.maxGen + 1;
    const snapshot = encodeSnapshot(gen, reading.lastSeq, reading.objects);
    await writeFileAtomic(join(dir, `snapshot.${gen}`), snapshot, { durable: true, mode: 0o600 });
    const opened = openJournalFile(dir, gen, reading.lastSeq + 1, options.durable ?? true);
    const journal = new StateJournal(dir, gen, opened, reading.lastSeq + 1, options);
    for (const [k, v] of reading.objects) journal.#objects.set(k, v);
    let keptAside: string | undefined;
    if (reading.problems.length > 0 || reading.migrated) {
      keptAside = await moveAside(dir, reading.files);
    } else if (reading.baseGen !== undefined) {
      // The snapshot it was built on and the journals since stay until the next compaction.
      await removeGenerationsBefore(dir, reading.baseGen);
    }
    journal.#recovery = {
      objects: reading.objects.size,
      records: reading.records,
      from: reading.from,
      migrated: reading.migrated,
      lost: reading.lost,
      problems: reading.problems,
      keptAside,
    };
    return journal;
  }

  /** What opening recovered; see {@link StateRecovery}. */
  get recovery(): StateRecovery {
    return this.#recovery;
  }

  /** The recovered objects of `kind`, decoded. */
  load<T>(kind: string): T[] {
    const prefix = `${kind}/`;
    const out: T[] = [];
    for (const [key, value] of this.#objects)
      if (key.startsWith(prefix)) out.push(decodeState(value) as T);
    return out;
  }

  /** Records `value` as object `id` of `kind`; resolves once it is on disk. */
  put(kind: string, id: string, value: unknown): Promise<void> {
    const encoded = encodeState(value);
    return this.#append(`${kind}/${id}`, encoded, recordPayload(kind, id, encoded));
  }

  /** Records that object `id` of `kind` is gone; resolves once that is on disk. */
  delete(kind: string, id: string): Promise<void> {
    return this.#append(`${kind}/${id}`, null, recordPayload(kind, id, null));
  }

  /** Waits for every write asked for so far, then closes the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#flush();
    await this.#syncing;
    await this.#compacting;
    closeSync(this.#fd);
  }

  #append(key: string, value: string | null, payload: string): Promise<void> {
    if (this.#closed)
      return Promise.reject(new ChurnError('UNAVAILABLE', 'state journal is closed'));
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    return new Promise((resolve, reject) => {
      this.#queue.push({ key, value, payload, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        queueMicrotask(() => this.#flush());
      }
    });
  }

  /**
   * Writes every queued record in one append (synchronously: see the module comment), then
   * (durable) leaves them to the next sync to acknowledge, else acknowledges them at once.
   */
  #flush(): void {
    this.#flushScheduled = false;
    if (this.#queue.length === 0) return;
    const group = this.#queue;
    this.#queue = [];
    if (this.#failed !== undefined) {
      for (const p of group) p.reject(this.#failed);
      return;
    }
    const bytes = Buffer.concat(group.map((p, i) => encodeFrame(this.#nextSeq + i, p.payload)));
    try {
      writeFully(this.#fd, bytes);
    } catch (err) {
      const failure = this.#writeFailed(err, group.length);
      for (const p of group) p.reject(failure);
      return;
    }
    this.#size += bytes.length;
    this.#nextSeq += group.length;
    this.#lines += group.length;
    for (const p of group) {
      if (p.value === null) this.#objects.delete(p.key);
      else this.#objects.set(p.key, p.value);
    }
    if (this.#durable) {
      this.#unsynced.push({ fd: this.#fd, group });
      this.#queueSync();
    } else {
      for (const p of group) p.resolve();
    }
    if (this.#lines >= this.#compactAfterLines && this.#lines > 4 * this.#objects.size)
      this.#compact();
  }

  /**
   * Queues a sync unless one is queued already. When its turn comes (the sync before it done),
   * it takes every group written so far, fdatasyncs the files they went to (two across a
   * compaction, the old one first) and acknowledges them: groups written while a sync runs
   * share the next one, so requests arriving on turns of their own still share their syncs.
   */
  #queueSync(): void {
    if (this.#syncQueued) return;
    this.#syncQueued = true;
    this.#syncing = this.#syncing.then(async () => {
      this.#syncQueued = false;
      const batch = this.#unsynced;
      this.#unsynced = [];
      try {
        if (this.#failed !== undefined) throw this.#failed;
        for (const fd of new Set(batch.map((b) => b.fd))) await fdatasyncAsync(fd);
      } catch (err) {
        this.#failed ??= new ChurnError(
          'UNAVAILABLE',
          `state journal in ${this.#dir}: fdatasync failed (${(err as Error).message}); ` +
            'what it held is uncertain, so the core takes no more changes: restart it',
          { cause: err },
        );
        if (err !== this.#failed) this.#onError(this.#failed.message);
        for (const b of batch) for (const p of b.group) p.reject(this.#failed);
        return;
      }
      for (const b of batch) for (const p of b.group) p.resolve();
    });
  }

  /** Cuts a partly written group off the file; the error its records are refused with. */
  #writeFailed(err: unknown, records: number): ChurnError {
    const code = (err as NodeJS.ErrnoException).code;
    let cut = 'cut back off the journal';
    try {
      ftruncateSync(this.#fd, this.#size);
    } catch (truncateErr) {
      // Left as a damaged range that recovery skips: the records after it still count.
      cut = `left partly written (truncate failed: ${(truncateErr as Error).message})`;
    }
    const full = code === 'ENOSPC' || code === 'EDQUOT';
    const message =
      `cannot write the state journal in ${this.#dir}: ${(err as Error).message}; ` +
      `${records} change(s) refused, ${cut}`;
    this.#onError(message);
    return new ChurnError(full ? 'RESOURCE_EXHAUSTED' : 'INTERNAL', message, { cause: err });
  }

  /** Starts a new generation and snapshots the state as of its start. */
  #compact(): void {
    if (this.#compacting !== undefined || this.#closed || this.#failed !== undefined) return;
    const gen = this.#gen + 1;
    // Synchronous from here to the switch: the snapshot is exactly what the old journals say.
    let opened: { fd: number; size: number };
    try {
      opened = openJournalFile(this.#dir, gen, this.#nextSeq, this.#durable);
    } catch (err) {
      this.#onError(`state journal compaction postponed: ${(err as Error).message}`);
      return; // the journals stay valid; a later compaction tries again
    }
    const snapshot = encodeSnapshot(gen, this.#nextSeq - 1, this.#objects);
    const old = this.#fd;
    this.#fd = opened.fd;
    this.#size = opened.size;
    this.#gen = gen;
    this.#lines = 0;
    this.#compacting = (async () => {
      try {
        // The syncs queued so far cover every record written to the old journal.
        await this.#syncing;
        closeSync(old);
        await writeFileAtomic(join(this.#dir, `snapshot.${gen}`), snapshot, {
          durable: true,
          mode: 0o600,
        });
        await removeGenerationsBefore(this.#dir, this.#keepFrom);
        this.#keepFrom = gen;
      } catch (err) {
        // The journals since the previous snapshot stay: recovery rebuilds from them.
        this.#onError(`state snapshot ${gen} not written: ${(err as Error).message}`);
      }
    })().finally(() => {
      this.#compacting = undefined;
    });
  }
}

/** Writes all of `bytes` at the end of `fd`, however many calls that takes. */
function writeFully(fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/** Creates journal `gen` (0600) with its header; synced, and its directory entry too. */
function openJournalFile(
  dir: string,
  gen: number,
  firstSeq: number,
  durable: boolean,
): { fd: number; size: number } {
  const path = join(dir, `journal.${gen}`);
  const fd = openSync(path, 'wx', 0o600);
  try {
    const header = encodeJournalHeader(gen, firstSeq);
    writeFully(fd, header);
    if (durable) {
      fsyncSync(fd);
      const dirFd = openSync(dir, 'r');
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    }
    return { fd, size: header.length };
  } catch (err) {
    closeSync(fd);
    unlinkSync(path);
    const code = (err as NodeJS.ErrnoException).code;
    throw new ChurnError(
      code === 'ENOSPC' || code === 'EDQUOT' ? 'RESOURCE_EXHAUSTED' : 'IO',
      `cannot create ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** Removes the snapshots and journals of generations before `gen`. */
async function removeGenerationsBefore(dir: string, gen: number): Promise<void> {
  for (const name of await readdir(dir)) {
    const m = /^(?:journal|snapshot)\.(\d+)$/.exec(name);
    if (m !== null && Number(m[1]) < gen) await rm(join(dir, name), { force: true });
  }
}

/** Moves `names` into a new `recovery-<time>` directory of `dir`; returns its path. */
async function moveAside(dir: string, names: readonly string[]): Promise<string> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  let aside = join(dir, `recovery-${stamp}`);
  for (let i = 1; ; i++) {
    try {
      await mkdir(aside, { mode: 0o700 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      aside = join(dir, `recovery-${stamp}-${i}`);
    }
  }
  for (const name of names) {
    await rename(join(dir, name), join(aside, name)).catch((err: unknown) => {
      // A compaction of a journal still open elsewhere may have removed it meanwhile.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    });
  }
  return aside;
}
