/**
 * The user a container's processes run as, resolved from the CRI config and the image as
 * containerd 1.6's CRI plugin does (facts from its container_create_linux.go and oci/spec_opts.go):
 *
 * - The user string is run_as_username, else run_as_user; with run_as_group it becomes
 *   `user:group`. Without either it is the image's `User` (`name`, `uid`, `name:group`, …).
 *   A group without a user is refused earlier (CRI decoding).
 * - `uid` alone: the gid of its /etc/passwd entry, or 0 when it has none. `name` alone: uid and
 *   gid of its entry; no entry is an error. `user:group`: a numeric part is taken as is (no
 *   lookup), a name is looked up (user in /etc/passwd, group in /etc/group; missing: error).
 * - Additional gids: the gid itself, the groups whose member list in /etc/group names the user
 *   (a group of the user's own name excluded), and the CRI supplemental groups; sorted, without
 *   duplicates. The user looked up for membership is run_as_username, else run_as_user (0 when
 *   unset: containerd does not use the image's User here).
 *
 * Pure except {@link readImageAccounts}, which reads the two files from an image's rootfs.
 */
import { readFile } from 'node:fs/promises';
import { ChurnError } from '../../common/errors.js';
import { resolveInRoot } from '../rootfs-path.js';
import type { ProcessUser } from '../types.js';

/** The image's /etc/passwd and /etc/group, as text; undefined when a file is absent. */
export interface ImageAccounts {
  readonly passwd: string | undefined;
  readonly group: string | undefined;
}

/** What {@link resolveProcessUser} needs from the container config and the image. */
export interface UserRequest {
  readonly runAsUser?: number;
  readonly runAsUsername?: string;
  readonly runAsGroup?: number;
  readonly supplementalGroups?: readonly number[];
  /** The image config's `User`; '' when it names none. */
  readonly imageUser: string;
}

interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

/** Largest uid or gid (uint32, as in the OCI spec). */
const maxId = 0xffff_ffff;

/** Parses a uid or gid as containerd does (a decimal integer); undefined for a name. */
function parseId(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n <= maxId ? n : undefined;
}

function lines(text: string | undefined): string[][] {
  if (text === undefined) return [];
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

/** Entries of an /etc/passwd file; malformed lines are skipped. */
export function parsePasswd(text: string | undefined): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of lines(text)) {
    const uid = parseId(f[2] ?? '');
    const gid = parseId(f[3] ?? '');
    if (f[0] === undefined || uid === undefined || gid === undefined) continue;
    out.push({ name: f[0], uid, gid });
  }
  return out;
}

/** Entries of an /etc/group file; malformed lines are skipped. */
export function parseGroup(text: string | undefined): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of lines(text)) {
    const gid = parseId(f[2] ?? '');
    if (f[0] === undefined || gid === undefined) continue;
    const members = (f[3] ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== '');
    out.push({ name: f[0], gid, members });
  }
  return out;
}

function userString(request: UserRequest): string {
  let user = request.runAsUser === undefined ? '' : String(request.runAsUser);
  if (request.runAsUsername !== undefined && request.runAsUsername !== '') {
    user = request.runAsUsername;
  }
  if (user === '') return request.imageUser;
  return request.runAsGroup === undefined ? user : `${user}:${request.runAsGroup}`;
}

function noUser(what: string, name: string, file: string, where: string): ChurnError {
  return new ChurnError('INVALID_ARGUMENT', `${what} "${name}" not found in ${where} ${file}`);
}

/**
 * The uid, gid and additional gids for `request` in an image with `accounts`. Throws
 * INVALID_ARGUMENT for a user or group name the image does not define, or a malformed user
 * string; `where` says whose files `accounts` are, for that message.
 */
export function resolveProcessUser(
  request: UserRequest,
  accounts: ImageAccounts,
  where = "the image's",
): ProcessUser {
  const passwd = parsePasswd(accounts.passwd);
  const groups = parseGroup(accounts.group);
  const userstr = userString(request);
  let uid = 0;
  let gid = 0;
  if (userstr !== '') {
    const parts = userstr.split(':');
    if (parts.length > 2) {
      throw new ChurnError('INVALID_ARGUMENT', `user "${userstr}" is malformed (user[:group])`);
    }
    const [userPart = '', groupPart] = parts;
    const numericUid = parseId(userPart);
    if (groupPart === undefined) {
      if (numericUid !== undefined) {
        uid = numericUid;
        gid = passwd.find((e) => e.uid === numericUid)?.gid ?? 0;
      } else {
        const entry = passwd.find((e) => e.name === userPart);
        if (entry === undefined) throw noUser('user', userPart, '/etc/passwd', where);
        uid = entry.uid;
        gid = entry.gid;
      }
    } else {
      if (numericUid !== undefined) {
        uid = numericUid;
      } else {
        const entry = passwd.find((e) => e.name === userPart);
        if (entry === undefined) throw noUser('user', userPart, '/etc/passwd', where);
        uid = entry.uid;
      }
      const numericGid = parseId(groupPart);
      if (numericGid !== undefined) {
        gid = numericGid;
      } else {
        const entry = groups.find((g) => g.name === groupPart);
        if (entry === undefined) throw noUser('group', groupPart, '/etc/group', where);
        gid = entry.gid;
      }
    }
  }
  // Membership is looked up for the CRI user only, as containerd does (see the module comment).
  let member: string | undefined;
  if (request.runAsUsername !== undefined && request.runAsUsername !== '') {
    member = request.runAsUsername;
  } else {
    const memberUid = request.runAsUser ?? 0;
    member = passwd.find((e) => e.uid === memberUid)?.name;
  }
  const fromImage =
    member === undefined
      ? []
      : groups.filter((g) => g.name !== member && g.members.includes(member)).map((g) => g.gid);
  const additionalGids = [
    ...new Set([gid, ...fromImage, ...(request.supplementalGroups ?? [])]),
  ].sort((a, b) => a - b);
  return {
    uid,
    gid,
    additionalGids,
    named: userstr !== '',
  };
}

/** The image's /etc/passwd and /etc/group (symlinks resolved inside `rootfs`). */
export async function readImageAccounts(rootfs: string): Promise<ImageAccounts> {
  const read = async (path: string): Promise<string | undefined> => {
    try {
      return await readFile(await resolveInRoot(rootfs, path), 'utf8');
    } catch {
      return undefined;
    }
  };
  const [passwd, group] = await Promise.all([read('/etc/passwd'), read('/etc/group')]);
  return { passwd, group };
}
