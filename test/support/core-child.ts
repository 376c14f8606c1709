// A core in a child process, for tests of what a restarted core recovers after a crash: it
// opens a core on argv[2] with executor argv[3], starts containers, prints {podId, running, other} as one JSON line,
// then waits to be killed (SIGKILL: the crash) without closing the core.
import { RuntimeService } from '../../src/runtime/service.js';
import { containerConfig, podConfig } from './core-fixtures.js';

const stateDir = process.argv[2];
const executor = process.argv[3] === 'runc' ? 'runc' : 'process';
if (stateDir === undefined) throw new Error('usage: core-child.ts STATE_DIR [process|runc]');
const core = await RuntimeService.open({ stateDir, executor });
const pod = podConfig({ name: 'crashed' });
const podId = await core.runPodSandbox(pod, '');
const running = await core.createContainer(podId, containerConfig({ name: 'survivor' }), pod);
await core.startContainer(running);
const other = await core.createContainer(podId, containerConfig({ name: 'victim' }), pod);
await core.startContainer(other);
const pids = {
  running: (await core.containerStatus(running)).pid,
  other: (await core.containerStatus(other)).pid,
};
process.stdout.write(`${JSON.stringify({ podId, running, other, pids })}\n`);
setInterval(() => undefined, 60_000);
