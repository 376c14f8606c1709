/**
 * Tasks of the `process` executor that are not children of the core (issue 13). libuv (1.46 in
 * Node 20) handles every SIGCHLD by calling waitpid(pid, WNOHANG) on each live process handle
 * of the loop, so while tasks are Node children every exit costs one syscall per live container
 * (docs/performance.md, "Cost per live container"). Here, as containerd does with its shims, a
 * supervisor stands between the core and the task:
 *
 *   core ── spawn ──> setsid --fork ──> sh (supervisor, own session, re-parented to init)
 *                       (exits at once)     └─ fork: setsid ─> sh ─> exec the task
 *
 * The core's own child lives only for the instant of the fork. The supervisor runs the task in
 * the foreground, waits for it and writes `exit <code>` (128 + signal for a signal, as
 * {@link exitCodeOf} says) on file descriptor 3, a pipe the core reads; the task writes
 * `pid <pid>` there itself once it has called setsid() (so the core never signals a group that
 * does not exist yet), then execs with descriptor 3 closed. The supervisor's own stderr goes to
 * /dev/null (dash reports "Killed" there), the task's to the log. The task leads its own
 * session and process group, outside the supervisor's, so signals to the task's group never
 * reach the supervisor.
 *
 * A shell passes through what it is given, with exceptions that decide when this path is taken
 * ({@link supervisable}); otherwise the task is spawned directly, as before:
 * - dash's `exec` cannot set argv[0]: the task sees the path it was run by (`./usr/bin/sleep`),
 *   so only when that path's last component is argv[0]'s (a multi-call binary such as busybox,
 *   reached through a resolved symlink, must see its applet's name);
 * - dash drops environment variables whose names are not shell identifiers and sets IFS,
 *   OPTIND, PPID and PWD itself: only environments without those;
 * - no stdin (an attached task's stdin needs the core's own pipe handling).
 * An executable the task's user may not run fails in the task (exit 126, the shell's message
 * in the log) rather than at start.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, constants as fsConstants } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { ChurnError } from '../../common/errors.js';
import { shellCommandLine } from './streamed-exec.js';

/**
 * The variable that carries the task's script and argv to the supervisor, quoted for `eval`:
 * in its environment, not its command line, so that only the task's shows the task's words.
 */
const argvVariable = 'CHURN_TASK_ARGV';
/** Environment names dash does not pass through unchanged, and the supervisor's own. */
const shellOwnedNames = new Set(['IFS', 'OPTIND', 'PPID', 'PWD', argvVariable]);
const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The supervisor, run by `sh -c` with the task's shell script and argv in {@link argvVariable}. It
 * keeps the log's stderr on descriptor 4 for the task and silences its own (dash writes
 * "Killed" on the stderr a command was run with, hence no redirection around the command).
 */
const supervisorScript = (tools: SupervisorTools): string =>
  `eval "set -- $${argvVariable}"; unset ${argvVariable}; c=$1; shift; exec 4>&2 2>/dev/null; ` +
  `${tools.setsid} /bin/sh -c "$c" churn-task "$@"; echo "exit $?" >&3`;
/** What the task's shell runs, after setsid(): report the pid, exec the task with the log as stderr. */
const taskScript = 'echo "pid $$" >&3; exec "$@" 2>&4 3>&- 4>&-';

/** Host paths of what supervising needs: a `setsid` that can fork, and a POSIX shell. */
export interface SupervisorTools {
  readonly setsid: string;
}

/** The tools, when this host has them (util-linux `setsid` with --fork, /bin/sh); else undefined. */
export async function findSupervisorTools(): Promise<SupervisorTools | undefined> {
  for (const setsid of ['/usr/bin/setsid', '/bin/setsid']) {
    const help = await new Promise<string>((resolve) => {
      execFile(setsid, ['--help'], { timeout: 5000 }, (_err, stdout) => resolve(stdout));
    });
    if (!help.includes('--fork')) continue;
    try {
      await access('/bin/sh', fsConstants.X_OK);
    } catch {
      return undefined;
    }
    return { setsid };
  }
  return undefined;
}

/**
 * Whether a task run by `runnable` (the path it is exec'd by) for `argv` with `env` can be
 * supervised without a visible difference but argv[0]'s directory (see the module comment).
 */
export function supervisable(
  runnable: string,
  argv: readonly string[],
  env: readonly string[],
): boolean {
  if (basename(runnable) !== basename(argv[0] ?? '')) return false;
  for (const kv of env) {
    const eq = kv.indexOf('=');
    const name = eq < 0 ? kv : kv.slice(0, eq);
    if (!identifier.test(name) || shellOwnedNames.has(name)) return false;
  }
  return true;
}

/** What {@link spawnSupervised} needs besides the command. */
export interface SupervisedSpawn {
  readonly cwd: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly env: Record<string, string>;
  /** Pipes for the task's stdout and stderr (else they go nowhere). */
  readonly output: boolean;
}

/** A supervised task once it runs. */
export interface SupervisedTask {
  readonly pid: number;
  /** The core's short-lived child: its stdout and stderr are the task's. */
  readonly child: ChildProcess;
  /** The task's exit code; undefined when the supervisor died without telling it. */
  readonly exited: Promise<number | undefined>;
}

/**
 * Starts `runnable` (argv[1..] as its arguments) under a supervisor (see the module comment);
 * resolves once the task leads its own session. FAILED_PRECONDITION when it did not get so far.
 */
export async function spawnSupervised(
  tools: SupervisorTools,
  runnable: string,
  argv: readonly string[],
  options: SupervisedSpawn,
): Promise<SupervisedTask> {
  const out = options.output ? 'pipe' : 'ignore';
  const child = spawn(
    tools.setsid,
    ['--fork', '/bin/sh', '-c', supervisorScript(tools), 'churn-supervisor'],
    {
      cwd: options.cwd,
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
      env: {
        ...options.env,
        [argvVariable]: shellCommandLine([taskScript, runnable, ...argv.slice(1)]),
      },
      stdio: ['ignore', out, out, 'pipe'],
    },
  );
  const status = child.stdio[3] as Readable | null;
  if (child.pid === undefined || status === null) {
    const err = await new Promise<Error>((resolve) => child.once('error', resolve));
    throw new ChurnError(
      'FAILED_PRECONDITION',
      `cannot run ${argv[0] ?? runnable} (${runnable}): ${err.message}`,
      { cause: err },
    );
  }
  let onPid: (pid: number | undefined) => void = () => undefined;
  const pid = new Promise<number | undefined>((resolve) => (onPid = resolve));
  const exited = new Promise<number | undefined>((resolve) => {
    let text = '';
    status.setEncoding('latin1');
    status.on('data', (chunk: string) => {
      text += chunk;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
        const [key, value] = text.slice(0, nl).split(' ');
        text = text.slice(nl + 1);
        if (key === 'pid') onPid(Number(value));
        else if (key === 'exit') resolve(Number(value));
      }
    });
    status.once('close', () => {
      onPid(undefined);
      resolve(undefined);
    });
    status.once('error', () => undefined);
  });
  const taskPid = await pid;
  if (taskPid === undefined || !(taskPid > 0)) {
    const code = await exited;
    status.destroy();
    throw new ChurnError(
      'FAILED_PRECONDITION',
      `cannot run ${argv[0] ?? runnable} (${runnable}): the task's supervisor exited ${code ?? 'without a status'} before the task ran`,
    );
  }
  return {
    pid: taskPid,
    child,
    exited: exited.finally(() => status.destroy()),
  };
}
