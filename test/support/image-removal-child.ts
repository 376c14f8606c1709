// A core in a child process, for the test of a crash between RemoveImage and the removal of the
// last container using the image: it opens a core on argv[2] with the archive directory
// argv[3], pulls argv[4], starts a container from it, removes the image, prints
// {podId, containerId, pid, imageId} as one JSON line, then waits to be killed (SIGKILL: the
// crash) without closing the core.
import { RuntimeService } from '../../src/runtime/service.js';
import { containerConfig, podConfig } from './core-fixtures.js';

const [stateDir, imagesDir, ref] = process.argv.slice(2);
if (stateDir === undefined || imagesDir === undefined || ref === undefined) {
  throw new Error('usage: image-removal-child.ts STATE_DIR IMAGES_DIR REF');
}
const core = await RuntimeService.open({ stateDir, imagesDir });
const imageId = await core.pullImage(ref);
const pod = podConfig({ name: 'crashed' });
const podId = await core.runPodSandbox(pod, '');
const containerId = await core.createContainer(
  podId,
  containerConfig({ name: 'user', image: ref }),
  pod,
);
await core.startContainer(containerId);
await core.removeImage(ref);
const { pid } = await core.containerStatus(containerId);
process.stdout.write(`${JSON.stringify({ podId, containerId, pid, imageId })}\n`);
setInterval(() => undefined, 60_000);
