/**
 * Who the tasks of the `process` executor run as. They share the host's filesystem, network,
 * pid and IPC namespaces and capabilities' reach with the core, so their uid and gid are what
 * stands between a task and the host:
 *
 * - A core that runs as root changes user in the child before it runs the task (setgroups to
 *   none, setgid, setuid: no supplementary groups, no capabilities left). A task runs as the
 *   user its container or image names (CRI run_as_user, run_as_username, run_as_group; the
 *   image's User), names looked up in the host's /etc/passwd and /etc/group since the task sees
 *   the host's files, and a task that names none runs as the task user: `taskUser`
 *   (`churn serve --task-user`), by default nobody, 65534:65534. No task runs as root unless the
 *   task user is root (`--task-user 0`, the explicit opt-in); a request for uid 0 is refused
 *   otherwise. gid 0 with another uid is accepted (containerd gives it to a uid with no
 *   passwd entry).
 * - A core that does not run as root cannot change user: its tasks run as the core itself (and
 *   keep its supplementary groups), and a request for another uid or gid is refused, as is a
 *   task user other than the core's own.
 *
 * Supplementary groups are never set: the CRI's supplemental_groups is refused elsewhere
 * (service.ts), and the groups /etc/group gives the user are not added.
 *
 * Pure but for {@link coreIdentity} and {@link readHostAccounts}.
 */
import { readFileSync } from 'node:fs';
import { ChurnError } from '../../common/errors.js';
import type { ProcessUser } from '../types.js';
import { parseGroup, parsePasswd, type ImageAccounts } from './oci-identity.js';

/** A uid and a gid. */
export interface TaskIdentity {
  readonly uid: number;
  readonly gid: number;
}

/** Who the tasks of a core's process executor may run as; see the module comment. */
export interface TaskUserPolicy {
  /** The core's own uid and gid. */
  readonly core: TaskIdentity;
  /** Who a task whose container and image name no user runs as. */
  readonly taskUser: TaskIdentity;
}

/** The default task user of a core that runs as root: nobody, nogroup. */
export const unprivilegedTaskUser: TaskIdentity = { uid: 65534, gid: 65534 };

/** Largest uid or gid (uint32 less the -1 that means "unchanged" to setuid). */
const maxId = 0xffff_fffe;

/** The uid and gid this process runs as. */
export function coreIdentity(): TaskIdentity {
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

/** The host's /etc/passwd and /etc/group, as text (undefined when absent or unreadable). */
export function readHostAccounts(): ImageAccounts {
  const read = (path: string): string | undefined => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  };
  return { passwd: read('/etc/passwd'), group: read('/etc/group') };
}

function parseId(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n <= maxId ? n : undefined;
}

/** What {@link parseTaskUser} accepts, for messages. */
export const taskUserSyntax =
  "UID[:GID] or NAME[:GROUP] (names from the host's /etc/passwd and /etc/group), e.g. 65534:65534, nobody, or 0 for root";

/**
 * `UID[:GID]` or `NAME[:GROUP]` (either part a number or a name of the host's `accounts`). The
 * gid defaults to the user's group in /etc/passwd, else to the uid's number. Throws
 * INVALID_ARGUMENT saying what is wrong, its message beginning with the quoted `text` (the
 * caller puts where it came from before it).
 */
export function parseTaskUser(text: string, accounts: ImageAccounts): TaskIdentity {
  const parts = text.split(':');
  const [userPart = '', groupPart] = parts;
  if (parts.length > 2 || userPart === '' || groupPart === '') {
    throw new ChurnError('INVALID_ARGUMENT', `"${text}": use ${taskUserSyntax}`);
  }
  const passwd = parsePasswd(accounts.passwd);
  let uid = parseId(userPart);
  let primaryGid: number | undefined;
  if (uid === undefined) {
    if (/^\d+$/.test(userPart)) {
      throw new ChurnError('INVALID_ARGUMENT', `"${text}": uid ${userPart} is too large`);
    }
    const entry = passwd.find((e) => e.name === userPart);
    if (entry === undefined) {
      throw new ChurnError(
        'INVALID_ARGUMENT',
        `"${text}": no user "${userPart}" in the host's /etc/passwd; use ${taskUserSyntax}`,
      );
    }
    uid = entry.uid;
    primaryGid = entry.gid;
  } else {
    primaryGid = passwd.find((e) => e.uid === uid)?.gid;
  }
  if (groupPart === undefined) return { uid, gid: primaryGid ?? uid };
  const gid = parseId(groupPart);
  if (gid !== undefined) return { uid, gid };
  if (/^\d+$/.test(groupPart)) {
    throw new ChurnError('INVALID_ARGUMENT', `"${text}": gid ${groupPart} is too large`);
  }
  const group = parseGroup(accounts.group).find((g) => g.name === groupPart);
  if (group === undefined) {
    throw new ChurnError(
      'INVALID_ARGUMENT',
      `"${text}": no group "${groupPart}" in the host's /etc/group; use ${taskUserSyntax}`,
    );
  }
  return { uid, gid: group.gid };
}

/** `uid:gid`. */
export function formatIdentity(id: TaskIdentity): string {
  return `${id.uid}:${id.gid}`;
}

/**
 * The policy of a core running as `core` given the task user option `taskUser` (see
 * {@link parseTaskUser}; `accounts` read only for names). Throws INVALID_ARGUMENT for a
 * malformed or unknown user, FAILED_PRECONDITION for a task user other than the core's own
 * when the core is not root; messages begin with the quoted `taskUser`.
 */
export function taskUserPolicy(
  taskUser: string | undefined,
  core: TaskIdentity,
  accounts: () => ImageAccounts,
): TaskUserPolicy {
  if (taskUser === undefined) {
    return { core, taskUser: core.uid === 0 ? unprivilegedTaskUser : core };
  }
  const asked = parseTaskUser(taskUser, /^[\d:]*$/.test(taskUser) ? noAccounts : accounts());
  if (core.uid !== 0 && (asked.uid !== core.uid || asked.gid !== core.gid)) {
    throw new ChurnError(
      'FAILED_PRECONDITION',
      `"${taskUser}" (${formatIdentity(asked)}): churn runs as ${formatIdentity(core)}, not root, so it cannot run tasks as another user; run churn as root, or leave the task user out (tasks then run as ${formatIdentity(core)})`,
    );
  }
  return { core, taskUser: asked };
}

const noAccounts: ImageAccounts = { passwd: undefined, group: undefined };

/** True when the core changes user in a task's child process (it runs as root). */
export function changesUser(policy: TaskUserPolicy): boolean {
  return policy.core.uid === 0;
}

/**
 * Who a task of a container resolved to `user` runs as under `policy`: the user it names, else
 * the task user. Throws INVALID_ARGUMENT, naming `what` and `--executor runc`, for a user the
 * policy does not allow (see the module comment).
 */
export function taskIdentity(
  user: ProcessUser | undefined,
  policy: TaskUserPolicy,
  what: string,
): TaskIdentity {
  if (user === undefined || !user.named) return policy.taskUser;
  const asked = { uid: user.uid, gid: user.gid };
  const { core } = policy;
  if (core.uid !== 0) {
    if (asked.uid === core.uid && asked.gid === core.gid) return asked;
    throw new ChurnError(
      'INVALID_ARGUMENT',
      `${what}: the process executor runs tasks as the core's own user (uid ${core.uid}, gid ${core.gid}) when the core is not root, not as uid ${asked.uid}, gid ${asked.gid}; run churn as root, or use --executor runc`,
    );
  }
  if (asked.uid === 0 && policy.taskUser.uid !== 0) {
    throw new ChurnError(
      'INVALID_ARGUMENT',
      `${what}: the process executor runs no task as root (uid 0) on the host unless its task user is root (churn serve --task-user 0, target.taskUser: "0"); use --executor runc for a root user in a container of its own`,
    );
  }
  return asked;
}
