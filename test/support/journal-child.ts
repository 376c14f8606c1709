// A state journal under load in a child process, for kill -9 tests: opens a StateJournal on
// argv[2] (durable, compacting every argv[3] records), then keeps argv[4] mutations in flight
// forever on keys k0…k<argv[5]-1>, one at a time per key, writing values numbered from argv[6]
// (unique across rounds: the parent passes a new base each time). Before each it prints
// `start <key> <value|del>`, after its promise resolved (acknowledged) `ack <key> <value|del>`,
// one line each, written to fd 1 before the mutation starts or the next one is made (`say`).
import { writeSync } from 'node:fs';
import { StateJournal } from '../../src/runtime/state-journal.js';

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes `line` to fd 1 before returning. Not process.stdout: when the parent reads slowly and
 * the pipe is full, process.stdout queues the lines in this process, and kill -9 then loses
 * them (a `start` line lost makes a mutation the parent never heard of; seen under load). A
 * line is a few dozen bytes, so it reaches the pipe whole or not at all.
 */
function say(line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  for (let offset = 0; offset < bytes.length;) {
    try {
      offset += writeSync(1, bytes, offset);
    } catch (err) {
      // A non-blocking pipe that is full: wait for the parent to read.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

const [dir, compactArg, concurrencyArg, keysArg, baseArg] = process.argv.slice(2);
if (dir === undefined) throw new Error('usage: journal-child.ts DIR COMPACT CONCURRENCY KEYS BASE');
const journal = await StateJournal.open(dir, {
  durable: true,
  compactAfterLines: Number(compactArg ?? 40),
});
const keys = Number(keysArg ?? 30);
const busy = new Set<string>();
let counter = Number(baseArg ?? 0);

function next(): Promise<void> {
  let key: string;
  do key = `k${Math.floor(Math.random() * keys)}`;
  while (busy.has(key));
  busy.add(key);
  const n = counter++;
  const del = Math.random() < 0.2;
  const label = del ? 'del' : String(n);
  say(`start ${key} ${label}`);
  const op = del
    ? journal.delete('thing', key)
    : journal.put('thing', key, {
        key,
        n,
        at: BigInt(n) * 1_000_000_007n,
        pad: 'x'.repeat(n % 200),
      });
  return op.then(() => {
    busy.delete(key);
    say(`ack ${key} ${label}`);
  });
}

async function worker(): Promise<void> {
  for (;;) await next();
}

say('ready');
await Promise.all(Array.from({ length: Number(concurrencyArg ?? 8) }, () => worker()));
