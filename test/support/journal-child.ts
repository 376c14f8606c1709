// A state journal under load in a child process, for kill -9 tests: opens a StateJournal on
// argv[2] (durable, compacting every argv[3] records), then keeps argv[4] mutations in flight
// forever on keys k0…k<argv[5]-1>, one at a time per key, writing values numbered from argv[6]
// (unique across rounds: the parent passes a new base each time). Before each it prints
// `start <key> <value|del>`, after its promise resolved (acknowledged) `ack <key> <value|del>`,
// one line each (stdout is a pipe: synchronous on Linux, so no acknowledged line is lost).
import { StateJournal } from '../../src/runtime/state-journal.js';

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
  process.stdout.write(`start ${key} ${label}\n`);
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
    process.stdout.write(`ack ${key} ${label}\n`);
  });
}

async function worker(): Promise<void> {
  for (;;) await next();
}

process.stdout.write('ready\n');
await Promise.all(Array.from({ length: Number(concurrencyArg ?? 8) }, () => worker()));
