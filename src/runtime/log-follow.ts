/**
 * Attach for the core: a container's output as it is written to its CRI log (the format
 * cri-log-writer.ts writes: `TIMESTAMP STREAM F|P CONTENT`, a P line continued by the next),
 * from the moment of attaching, delivered to a streaming client until the container exits.
 * The log is the one copy of the output both executors keep, so attach needs nothing of them.
 * A log that is replaced (rotated: another inode) or truncated is read again from its start.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Clock } from '../common/clock.js';
import type { StreamIo } from './types.js';

/** How often the log is read for new lines. */
const pollMs = 50;

/** The content of one CRI log line, with its newline for a full (F) line; undefined when malformed. */
export function parseCriLogLine(
  line: string,
): { stream: 'stdout' | 'stderr'; content: string } | undefined {
  const m = /^\S+ (stdout|stderr) ([FP]) (.*)$/s.exec(line);
  if (m === null) return undefined;
  return { stream: m[1] as 'stdout' | 'stderr', content: m[3]! + (m[2] === 'F' ? '\n' : '') };
}

/**
 * Copies the lines appended to `logPath` from now on to `io` until `exited` settles (then what
 * was written before the exit) or `io.signal` aborts. What the client sends is discarded.
 */
export async function followLog(
  logPath: string,
  io: StreamIo,
  exited: Promise<unknown>,
  clock: Clock,
): Promise<void> {
  io.stdin?.resume();
  const container = { exited: false };
  void exited.then(() => (container.exited = true));
  let file: FileHandle | undefined;
  let ino = -1;
  let offset = 0;
  let partial = '';
  try {
    try {
      const st = await stat(logPath);
      ino = st.ino;
      offset = st.size;
      file = await open(logPath, 'r');
    } catch {
      // Not written yet: read it from its start once it is.
    }
    for (;;) {
      const last = container.exited || io.signal.aborted;
      const st = await stat(logPath).catch(() => undefined);
      if (st !== undefined && (st.ino !== ino || st.size < offset)) {
        await file?.close();
        file = await open(logPath, 'r').catch(() => undefined);
        ino = st.ino;
        offset = 0;
        partial = '';
      }
      if (file !== undefined && st !== undefined && st.size > offset) {
        const buf = Buffer.alloc(st.size - offset);
        const { bytesRead } = await file.read(buf, 0, buf.length, offset);
        offset += bytesRead;
        const lines = (partial + buf.subarray(0, bytesRead).toString('utf8')).split('\n');
        partial = lines.pop()!;
        for (const line of lines) {
          const parsed = parseCriLogLine(line);
          if (parsed === undefined) continue;
          const out = parsed.stream === 'stdout' ? io.stdout : io.stderr;
          out?.write(parsed.content);
        }
      }
      if (last) return;
      await clock.sleep(pollMs, io.signal).catch(() => undefined);
    }
  } finally {
    await file?.close();
  }
}
