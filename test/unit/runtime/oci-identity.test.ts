import { describe, expect, it } from 'vitest';
import { isChurnError } from '../../../src/common/errors.js';
import {
  parseGroup,
  parsePasswd,
  resolveProcessUser,
  type ImageAccounts,
  type UserRequest,
} from '../../../src/runtime/executors/oci-identity.js';

// The accounts of critest's stand-in images (scripts/critest-images.ts).
const accounts: ImageAccounts = {
  passwd: [
    'root:x:0:0:root:/root:/bin/sh',
    'www-data:x:33:33:www-data:/var/www:/bin/false',
    'user1000:x:1000:1000:user1000:/home/user1000:/bin/sh',
    'nobody:x:65534:65534:nobody:/:/bin/false',
    '',
  ].join('\n'),
  group: [
    'root:x:0:',
    'www-data:x:33:',
    'user1000:x:1000:',
    'group-defined-in-image:x:50000:user1000',
    'staff:x:50:www-data,user1000',
    'nogroup:x:65534:',
    '',
  ].join('\n'),
};
const none: ImageAccounts = { passwd: undefined, group: undefined };

describe('resolveProcessUser, as containerd 1.6 resolves a CRI user', () => {
  it.each<[string, Partial<UserRequest>, ImageAccounts, [number, number, number[], boolean]]>([
    ['nothing named: root, with its groups', {}, accounts, [0, 0, [0], false]],
    [
      'run_as_user with a passwd entry: its gid',
      { runAsUser: 1000 },
      accounts,
      [1000, 1000, [50, 1000, 50000], true],
    ],
    ['run_as_user without an entry: gid 0', { runAsUser: 1001 }, accounts, [1001, 0, [0], true]],
    ['run_as_user without /etc/passwd: gid 0', { runAsUser: 1001 }, none, [1001, 0, [0], true]],
    [
      'run_as_user and run_as_group, no lookup',
      { runAsUser: 1001, runAsGroup: 1002 },
      accounts,
      [1001, 1002, [1002], true],
    ],
    [
      'run_as_username: uid and gid of its entry',
      { runAsUsername: 'nobody' },
      accounts,
      [65534, 65534, [65534], true],
    ],
    [
      'run_as_username wins over run_as_user',
      { runAsUser: 5, runAsUsername: 'www-data' },
      accounts,
      [33, 33, [33, 50], true],
    ],
    [
      'run_as_username with run_as_group',
      { runAsUsername: 'www-data', runAsGroup: 7 },
      accounts,
      [33, 7, [7, 50], true],
    ],
    [
      'supplemental groups join, sorted, once',
      { runAsUser: 1000, supplementalGroups: [1234, 50000, 5] },
      accounts,
      [1000, 1000, [5, 50, 1000, 1234, 50000], true],
    ],
    [
      'supplemental groups without a user: root',
      { supplementalGroups: [1234, 5678] },
      accounts,
      [0, 0, [0, 1234, 5678], false],
    ],
    ['image user uid', { imageUser: '1002' }, accounts, [1002, 0, [0], true]],
    ['image user name', { imageUser: 'www-data' }, accounts, [33, 33, [33], true]],
    ['image user uid:gid', { imageUser: '1003:1004' }, accounts, [1003, 1004, [1004], true]],
    ['image user name:gid', { imageUser: 'www-data:1004' }, accounts, [33, 1004, [1004], true]],
    ['image user uid:group name', { imageUser: '1003:staff' }, accounts, [1003, 50, [50], true]],
    [
      'the CRI user overrides the image user',
      { imageUser: 'www-data', runAsUser: 1000 },
      accounts,
      [1000, 1000, [50, 1000, 50000], true],
    ],
  ])('%s', (_name, request, files, [uid, gid, additionalGids, named]) => {
    expect(resolveProcessUser({ imageUser: '', ...request }, files)).toEqual({
      uid,
      gid,
      additionalGids,
      named,
    });
  });

  it.each<[string, Partial<UserRequest>, ImageAccounts]>([
    ['an unknown run_as_username', { runAsUsername: 'ghost' }, accounts],
    ['a run_as_username without /etc/passwd', { runAsUsername: 'nobody' }, none],
    ['an unknown image user name', { imageUser: 'ghost' }, accounts],
    ['an unknown group name', { imageUser: '1000:ghosts' }, accounts],
    ['a malformed user string', { imageUser: '1:2:3' }, accounts],
  ])('refuses %s with INVALID_ARGUMENT', (_name, request, files) => {
    let err: unknown;
    try {
      resolveProcessUser({ imageUser: '', ...request }, files);
    } catch (e) {
      err = e;
    }
    expect(isChurnError(err, 'INVALID_ARGUMENT'), String(err)).toBe(true);
  });

  it('parses passwd and group files, skipping comments and malformed lines', () => {
    expect(parsePasswd('# c\nroot:x:0:0::/:/bin/sh\nbad:x:y:0\n\nshort:x\n')).toEqual([
      { name: 'root', uid: 0, gid: 0 },
    ]);
    expect(parseGroup('g:x:5:a, b,\nbad:x:z:\n')).toEqual([
      { name: 'g', gid: 5, members: ['a', 'b'] },
    ]);
  });
});
