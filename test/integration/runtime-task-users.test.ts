// Who the process executor's tasks run as when the core is root (executors/task-user.ts): nobody
// by default, the user a container names, root only when the task user is root, and the same
// user for exec'd commands, streaming or not, from the host image and from an image unpacked in
// the core's private state directory. These need root; in CI (CI=true) they run, and fail, when
// churn is not root, rather than skip.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildBusyboxArchive } from '../../scripts/oci-image.js';
import type { RuntimeService } from '../../src/runtime/service.js';
import type { ContainerConfig } from '../../src/runtime/types.js';
import {
  containerConfig,
  openCore,
  podConfig,
  refusedCreate,
  tempDir,
} from '../support/core-fixtures.js';

const isRoot = process.getuid?.() === 0;

/** Real, effective, saved and filesystem ids, and supplementary groups, from /proc/<pid>/status. */
function idsOf(pid: number): { uid: string; gid: string; groups: string } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => new RegExp(`^${name}:[ \t]*(.*)$`, 'm').exec(status)?.[1]?.trim();
  return {
    uid: (field('Uid') ?? '').split(/\s+/).join(' '),
    gid: (field('Gid') ?? '').split(/\s+/).join(' '),
    groups: field('Groups') ?? '',
  };
}

async function run(
  c: RuntimeService,
  extra: Partial<ContainerConfig> = {},
): Promise<{ id: string; pid: number }> {
  const pod = podConfig();
  const podId = await c.runPodSandbox(pod, '');
  const id = await c.createContainer(podId, containerConfig(extra), pod);
  await c.startContainer(id);
  return { id, pid: (await c.containerStatus(id)).pid };
}

async function exec(c: RuntimeService, id: string, argv: string[]) {
  const r = await c.execSync(id, argv, 10);
  return { code: r.exitCode, out: r.stdout.toString().trim(), err: r.stderr.toString() };
}

/** Runs `argv` in `id` through the streaming path (what crictl exec uses); its output. */
async function execStreamed(
  c: RuntimeService,
  id: string,
  argv: string[],
  tty: boolean,
): Promise<{ code: number; out: string }> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (b: Buffer) => chunks.push(b));
  const code = await c.execStream(id, argv, {
    stdin: undefined,
    stdout,
    stderr: undefined,
    tty,
    onResize: () => undefined,
    signal: new AbortController().signal,
  });
  return { code, out: Buffer.concat(chunks).toString().trim() };
}

describe.skipIf(!isRoot && process.env.CI !== 'true')(
  'users of the process executor when the core is root',
  () => {
    it('is root here (CI runs these as root)', () => {
      expect(process.getuid?.()).toBe(0);
    });

    it('runs a task as nobody with no groups by default: it cannot read /etc/shadow, nor can its execs', async () => {
      const c = await openCore();
      const { id, pid } = await run(c);
      expect(idsOf(pid)).toEqual({
        uid: '65534 65534 65534 65534',
        gid: '65534 65534 65534 65534',
        groups: '',
      });
      expect(await exec(c, id, ['id', '-u'])).toMatchObject({ code: 0, out: '65534' });
      const shadow = await exec(c, id, ['cat', '/etc/shadow']);
      expect(shadow.code).not.toBe(0);
      expect(shadow.err).toContain('Permission denied');
      expect(await execStreamed(c, id, ['id', '-u'], false)).toEqual({ code: 0, out: '65534' });
      expect(await execStreamed(c, id, ['id', '-u'], true)).toEqual({ code: 0, out: '65534' });
    });

    it('keeps root with the task user 0, the explicit opt-in, and then lets a container ask for uid 0', async () => {
      const c = await openCore({ taskUser: '0' });
      const { id, pid } = await run(c);
      expect(idsOf(pid).uid).toBe('0 0 0 0');
      expect((await exec(c, id, ['cat', '/etc/shadow'])).code).toBe(0);
      const asked = await run(c, { runAsUser: 0 });
      expect(idsOf(asked.pid).uid).toBe('0 0 0 0');
    });

    it('runs as another task user when given one', async () => {
      const c = await openCore({ taskUser: '4321:4322' });
      const { pid } = await run(c);
      expect(idsOf(pid)).toMatchObject({ uid: '4321 4321 4321 4321', gid: '4322 4322 4322 4322' });
    });

    it('applies RunAsUser and RunAsGroup to the task and its execs', async () => {
      const c = await openCore();
      const { id, pid } = await run(c, { runAsUser: 1001, runAsGroup: 1002 });
      expect(idsOf(pid)).toEqual({
        uid: '1001 1001 1001 1001',
        gid: '1002 1002 1002 1002',
        groups: '',
      });
      expect(await exec(c, id, ['id', '-u'])).toMatchObject({ out: '1001' });
      expect(await exec(c, id, ['id', '-G'])).toMatchObject({ out: '1002' });
      expect(await execStreamed(c, id, ['id', '-g'], true)).toEqual({ code: 0, out: '1002' });
      // A uid alone: the gid of its host passwd entry, or 0 without one (as containerd).
      const alone = await run(c, { runAsUser: 54321 });
      expect(idsOf(alone.pid)).toMatchObject({ uid: '54321 54321 54321 54321', gid: '0 0 0 0' });
      expect((await exec(c, alone.id, ['cat', '/etc/shadow'])).code).not.toBe(0);
    });

    it("looks a user name up in the host's /etc/passwd, and refuses one it does not have", async () => {
      const c = await openCore();
      const { pid } = await run(c, { runAsUsername: 'nobody' });
      expect(idsOf(pid).uid).toBe('65534 65534 65534 65534');
      const err = await refusedCreate(c, { runAsUsername: 'churn-no-such-user' });
      expect(err.message).toContain(
        `user "churn-no-such-user" not found in the host's /etc/passwd`,
      );
    });

    it('refuses a container that asks for root, naming the opt-in and the runc executor', async () => {
      const c = await openCore();
      const err = await refusedCreate(c, { runAsUser: 0 });
      expect(err.message).toContain('runs no task as root (uid 0)');
      expect(err.message).toContain('--task-user 0');
      expect(err.message).toContain('--executor runc');
    });

    it("runs an image's executable from the core's 0700 state directory as nobody, execs too", async () => {
      const archives = await tempDir();
      await buildBusyboxArchive(join(archives, 'busybox.tar'), ['busybox:users']);
      const c = await openCore({ imagesDir: archives });
      expect(statSync(c.options.stateDir).mode & 0o777).toBe(0o700);
      const imageId = await c.pullImage('busybox:users');
      const image = 'docker.io/library/busybox:users';
      const { id, pid } = await run(c, { image, workingDir: '/bin' });
      const rootfs = join(c.options.stateDir, 'images', 'rootfs', imageId.slice(7));
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).toBe('sleep');
      expect(idsOf(pid).uid).toBe('65534 65534 65534 65534');
      expect(await exec(c, id, ['id', '-u'])).toMatchObject({ code: 0, out: '65534' });
      expect(await exec(c, id, ['pwd'])).toMatchObject({ code: 0, out: join(rootfs, 'bin') });
      expect(await execStreamed(c, id, ['id', '-u'], false)).toEqual({ code: 0, out: '65534' });
      expect(await execStreamed(c, id, ['id', '-u'], true)).toEqual({ code: 0, out: '65534' });
      const other = await run(c, { image, runAsUser: 1001 });
      expect(await exec(c, other.id, ['id', '-u'])).toMatchObject({ code: 0, out: '1001' });
      // Stopping and removing work on the other uid's processes.
      await c.stopContainer(id, 0);
      await c.removeContainer(id);
      expect((await c.listContainers({ id })).length).toBe(0);
    });
  },
);
