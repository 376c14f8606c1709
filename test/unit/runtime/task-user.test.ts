import { describe, expect, it } from 'vitest';
import { isChurnError } from '../../../src/common/errors.js';
import { fromOwnCwd, runnablePath } from '../../../src/runtime/executors/process-executor.js';
import {
  changesUser,
  parseTaskUser,
  taskIdentity,
  taskUserPolicy,
  unprivilegedTaskUser,
  type TaskUserPolicy,
} from '../../../src/runtime/executors/task-user.js';
import type { ProcessUser } from '../../../src/runtime/types.js';

const accounts = {
  passwd: [
    'root:x:0:0:root:/root:/bin/bash',
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
    'alice:x:1000:1000::/home/alice:/bin/sh',
    'svc:x:1001:50::/srv:/bin/sh',
  ].join('\n'),
  group: ['root:x:0:', 'staff:x:50:alice', 'nogroup:x:65534:', 'alice:x:1000:'].join('\n'),
};
const root = { uid: 0, gid: 0 };
const user1000 = { uid: 1000, gid: 1000 };

function thrown(f: () => unknown): Error & { code?: string } {
  try {
    f();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('did not throw');
}

function named(uid: number, gid: number): ProcessUser {
  return { uid, gid, additionalGids: [gid], named: true };
}

describe('parseTaskUser', () => {
  it.each([
    ['65534:65534', { uid: 65534, gid: 65534 }],
    ['0', { uid: 0, gid: 0 }],
    ['1001', { uid: 1001, gid: 50 }], // gid of its passwd entry
    ['4242', { uid: 4242, gid: 4242 }], // no entry: the uid's number
    ['1000:0', { uid: 1000, gid: 0 }],
    ['nobody', { uid: 65534, gid: 65534 }],
    ['svc', { uid: 1001, gid: 50 }],
    ['alice:staff', { uid: 1000, gid: 50 }],
    ['root:nogroup', { uid: 0, gid: 65534 }],
    ['4294967294:7', { uid: 4294967294, gid: 7 }],
  ])('%s is %j', (text, expected) => {
    expect(parseTaskUser(text, accounts)).toEqual(expected);
  });

  it.each([
    ['', 'use UID[:GID] or NAME[:GROUP]'],
    [':1', 'use UID[:GID] or NAME[:GROUP]'],
    ['1:', 'use UID[:GID] or NAME[:GROUP]'],
    ['1:2:3', 'use UID[:GID] or NAME[:GROUP]'],
    ['4294967295', 'uid 4294967295 is too large'],
    ['1:99999999999', 'gid 99999999999 is too large'],
    ['mallory', `no user "mallory" in the host's /etc/passwd`],
    ['alice:wheel', `no group "wheel" in the host's /etc/group`],
  ])('refuses %j with INVALID_ARGUMENT: %s', (text, message) => {
    const err = thrown(() => parseTaskUser(text, accounts));
    expect(isChurnError(err, 'INVALID_ARGUMENT')).toBe(true);
    expect(err.message).toContain(`"${text}": `);
    expect(err.message).toContain(message);
  });
});

describe('taskUserPolicy', () => {
  const read = () => accounts;

  it('runs tasks of a root core as nobody unless told otherwise', () => {
    expect(taskUserPolicy(undefined, root, read)).toEqual({
      core: root,
      taskUser: unprivilegedTaskUser,
    });
    expect(unprivilegedTaskUser).toEqual({ uid: 65534, gid: 65534 });
    expect(taskUserPolicy('0', root, read).taskUser).toEqual(root);
    expect(taskUserPolicy('alice', root, read).taskUser).toEqual(user1000);
    expect(changesUser(taskUserPolicy(undefined, root, read))).toBe(true);
  });

  it('runs tasks of a core that is not root as the core, the only user it allows', () => {
    expect(taskUserPolicy(undefined, user1000, read)).toEqual({
      core: user1000,
      taskUser: user1000,
    });
    expect(taskUserPolicy('1000:1000', user1000, read).taskUser).toEqual(user1000);
    expect(changesUser(taskUserPolicy(undefined, user1000, read))).toBe(false);
    for (const other of ['0', 'nobody', '1000:50']) {
      const err = thrown(() => taskUserPolicy(other, user1000, read));
      expect(isChurnError(err, 'FAILED_PRECONDITION')).toBe(true);
      expect(err.message).toContain('churn runs as 1000:1000, not root');
    }
  });

  it('reads the host accounts only for names', () => {
    const none = () => {
      throw new Error('read');
    };
    expect(taskUserPolicy('7:8', root, none).taskUser).toEqual({ uid: 7, gid: 8 });
    expect(taskUserPolicy(undefined, root, none).taskUser).toEqual(unprivilegedTaskUser);
  });
});

describe('taskIdentity', () => {
  const rootCore: TaskUserPolicy = { core: root, taskUser: unprivilegedTaskUser };
  const rootTasks: TaskUserPolicy = { core: root, taskUser: root };
  const plainCore: TaskUserPolicy = { core: user1000, taskUser: user1000 };

  it('gives a task that names no user the task user', () => {
    expect(taskIdentity(undefined, rootCore, 'c')).toEqual(unprivilegedTaskUser);
    const unnamed: ProcessUser = { uid: 0, gid: 0, additionalGids: [0], named: false };
    expect(taskIdentity(unnamed, rootCore, 'c')).toEqual(unprivilegedTaskUser);
    expect(taskIdentity(unnamed, rootTasks, 'c')).toEqual(root);
    expect(taskIdentity(unnamed, plainCore, 'c')).toEqual(user1000);
  });

  it('gives a root core the user the task names, gid 0 included, and root only when opted in', () => {
    expect(taskIdentity(named(1001, 1002), rootCore, 'c')).toEqual({ uid: 1001, gid: 1002 });
    expect(taskIdentity(named(1001, 0), rootCore, 'c')).toEqual({ uid: 1001, gid: 0 });
    expect(taskIdentity(named(0, 0), rootTasks, 'c')).toEqual(root);
    const err = thrown(() => taskIdentity(named(0, 0), rootCore, 'container "c"'));
    expect(isChurnError(err, 'INVALID_ARGUMENT')).toBe(true);
    expect(err.message).toMatch(/^container "c": the process executor runs no task as root/);
    expect(err.message).toContain('--task-user 0');
    expect(err.message).toContain('--executor runc');
  });

  it('refuses, on a core that is not root, any user but its own', () => {
    expect(taskIdentity(named(1000, 1000), plainCore, 'c')).toEqual(user1000);
    for (const [uid, gid] of [
      [1001, 1000],
      [1000, 0],
      [0, 0],
    ] as const) {
      const err = thrown(() => taskIdentity(named(uid, gid), plainCore, 'container "c"'));
      expect(isChurnError(err, 'INVALID_ARGUMENT')).toBe(true);
      expect(err.message).toContain(`not as uid ${uid}, gid ${gid}`);
      expect(err.message).toContain('--executor runc');
    }
  });
});

describe('runnablePath', () => {
  it.each([
    ['/bin/sleep', '/tmp', '/', '/bin/sleep'],
    ['/s/rootfs/abc/bin/busybox', '/s/rootfs/abc', '/s/rootfs/abc', './bin/busybox'],
    ['/s/rootfs/abc/bin/busybox', '/s/rootfs/abc/bin', '/s/rootfs/abc', './busybox'],
    ['/s/rootfs/abc/bin/busybox', '/s/rootfs/abc/home/u', '/s/rootfs/abc', '../../bin/busybox'],
  ])('names %s from %s (rootfs %s) as %s', (file, cwd, rootfs, expected) => {
    expect(runnablePath(file, cwd, rootfs)).toBe(expected);
  });
});

describe('fromOwnCwd', () => {
  it.each([
    ['/bin/sleep', '/bin/sleep'],
    ['./bin/busybox', '/proc/self/cwd/bin/busybox'],
    ['../../bin/busybox', '/proc/self/cwd/../../bin/busybox'],
  ])('names %s as %s', (runnable, expected) => {
    expect(fromOwnCwd(runnable)).toBe(expected);
  });
});
