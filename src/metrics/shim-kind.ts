/**
 * The per-container helper processes of a runtime daemon ("shims") and how to tell whose they
 * are: containerd's `containerd-shim*` (started with `-namespace NS -id ID -address SOCKET`,
 * daemonized and re-parented to init) and CRI-O's `conmon` (started with `-c ID` and
 * `--socket-dir-path DIR`, the directory of CRI-O's attach sockets; it daemonizes too). A shim
 * belongs to a daemon when it is the daemon's child or when its link (the socket, or the
 * socket's directory) is one the daemon listens on. The resource sampler counts them; the leak
 * audit looks for those whose container (or pod) is gone.
 */
import { dirname } from 'node:path';
import { argValue, conmonSocketDir, shimAddress, type ProcStat } from './procfs.js';

/** How the shims of one kind of daemon are told apart. */
export interface ShimKind {
  /** comm prefix of the shims. */
  readonly comm: string;
  /** What in a shim's arguments names its daemon, if anything. */
  readonly link: (args: readonly string[]) => string | undefined;
  /** The link a shim of the daemon listening on `socket` has. */
  readonly anchor: (socket: string) => string;
  /** The id of the container or pod the shim serves, from its arguments. */
  readonly owner: (args: readonly string[]) => string | undefined;
  /** The containerd namespace of the shim, from its arguments (CRI-O's have none). */
  readonly namespace: (args: readonly string[]) => string | undefined;
}

const containerdShims: ShimKind = {
  comm: 'containerd-shim',
  link: shimAddress,
  anchor: (socket) => socket,
  owner: (args) => argValue(args, 'id'),
  namespace: (args) => argValue(args, 'namespace'),
};

const crioShims: ShimKind = {
  comm: 'conmon',
  link: conmonSocketDir,
  anchor: dirname,
  owner: (args) => argValue(args, 'c', 'cid'),
  namespace: () => undefined,
};

/** The shims of a daemon with comm `comm`, or undefined when it has none. */
export function shimKindOf(comm: string): ShimKind | undefined {
  if (comm.startsWith('containerd') && !comm.startsWith(containerdShims.comm)) {
    return containerdShims;
  }
  return comm === 'crio' ? crioShims : undefined;
}

/** True for a process that is neither a zombie nor dead. */
export function isLive(stat: ProcStat | undefined): stat is ProcStat {
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}
