/**
 * CRI ReopenContainerLog over real gRPC, for each executor: after a log rotator moves the log
 * away, the call starts a new file at the log path and the container's output goes there; the
 * moved file keeps what came before, whole lines only. Refusals: an unknown container
 * (NOT_FOUND), one that is not running (FAILED_PRECONDITION; UNKNOWN as containerd answers
 * under --compat containerd).
 */
import { existsSync } from 'node:fs';
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CriClient } from '../../src/cri/client.js';
import type { Compat } from '../../src/runtime/lifecycle.js';
import { containerConfig, eventually, podConfig, tempDir } from '../support/core-fixtures.js';
import { serveCore, type ServedCore } from '../support/cri-serve.js';
import { codeOf } from '../support/error-code.js';
import { executorsUnderTest } from '../support/executors.js';

const cleanup = (fn: () => Promise<void>): void => onTestFinished(fn);

function clientFor(served: ServedCore): CriClient {
  const client = new CriClient(served.endpoint, { callTimeoutMs: 10_000 });
  onTestFinished(() => client.close());
  return client;
}

/** A running container printing `tick N` every 50 ms into `<logDir>/c.log`. */
async function ticking(served: ServedCore, logDir: string): Promise<string> {
  const pod = podConfig({ logDirectory: logDir });
  const podId = await served.core.runPodSandbox(pod, '');
  const id = await served.core.createContainer(
    podId,
    containerConfig({
      command: ['sh', '-c', 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.05; done'],
      logPath: 'c.log',
    }),
    pod,
  );
  await served.core.startContainer(id);
  return id;
}

/** The tick numbers of a CRI log, checking every line is a whole stdout line. */
function ticks(text: string): number[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const m = /^\S+Z stdout F tick (\d+)$/.exec(line);
      expect(m, `not a whole CRI log line: ${JSON.stringify(line)}`).not.toBeNull();
      return Number(m![1]);
    });
}

describe.each(executorsUnderTest())('CRI ReopenContainerLog, executor $name', ({ name, skip }) => {
  const serve = (compat: Compat = 'strict'): Promise<ServedCore> =>
    serveCore(cleanup, { executor: name, compat });

  it.skipIf(skip)(
    'starts a new file after a rotation; the old keeps what came before',
    async () => {
      const served = await serve();
      const client = clientFor(served);
      const logDir = await tempDir('churn-reopen-');
      const id = await ticking(served, logDir);
      const log = join(logDir, 'c.log');
      const count = async (): Promise<number> => ticks(await readFile(log, 'utf8')).length;
      expect(await eventually(async () => (await count()) > 2)).toBe(true);

      await rename(log, `${log}.1`);
      expect(existsSync(log)).toBe(false);
      await client.runtime('ReopenContainerLog', { containerId: id });
      expect(existsSync(log)).toBe(true);
      expect(await eventually(async () => (await count()) > 2)).toBe(true);

      const before = ticks(await readFile(`${log}.1`, 'utf8'));
      const after = ticks(await readFile(log, 'utf8'));
      // Nothing lost or repeated at the seam: the new file goes on where the old one ended.
      expect(after[0]).toBe(before[before.length - 1]! + 1);
      const all = [...before, ...after];
      expect(all).toEqual(all.map((_, i) => all[0]! + i));

      // Twice in a row is fine (nothing moved: the same file goes on).
      await client.runtime('ReopenContainerLog', { containerId: id });
      await served.core.stopContainer(id, 0);
      const final = ticks(await readFile(log, 'utf8'));
      expect(final.slice(0, after.length)).toEqual(after);
    },
  );

  it.skipIf(skip)('refuses an unknown container and one that is not running', async () => {
    for (const [compat, notRunning] of [
      ['strict', 'FAILED_PRECONDITION'],
      ['containerd', 'UNKNOWN'],
    ] as const) {
      const served = await serve(compat);
      const client = clientFor(served);
      const logDir = await tempDir('churn-reopen-');
      const id = await ticking(served, logDir);
      expect(await codeOf(client.runtime('ReopenContainerLog', { containerId: 'nope' }))).toBe(
        'NOT_FOUND',
      );
      expect(await codeOf(client.runtime('ReopenContainerLog', { containerId: '' }))).toBe(
        'INVALID_ARGUMENT',
      );
      await served.core.stopContainer(id, 0);
      expect(await codeOf(client.runtime('ReopenContainerLog', { containerId: id }))).toBe(
        notRunning,
      );
    }
  });
});
