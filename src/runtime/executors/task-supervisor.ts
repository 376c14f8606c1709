/**
 * Tasks of the `process` executor that are not children of the core (issue 13). libuv (1.46 in
 * Node 20) handles every SIGCHLD by calling waitpid(pid, WNOHANG) on each live process handle
 * of the loop, so while tasks are Node children every exit costs one syscall per live container
 * (docs/performance.md, "Cost per live container"). Here, as containerd does with its shims, a
 * supervisor stands between the core and the task:
 *
 *   core ─ spawn ─> setsid --fork ─> sh: the supervisor (own session, re-parented to init)
 *                   (exits at once)   └─ & setsid perl ─ exec ─> the task (own session)
 *
 * The core's own child lives only for the instant of the fork. The supervisor (dash, ~0.1 MB
 * private memory) writes the task's pid on descriptor 3, a pipe the core reads, waits for the
 * task and writes `<pid> <code>` (128 + signal for a signal, as exitCodeOf says) into one FIFO
 * shared by every supervisor of the core ({@link TaskExits}; one write of a few bytes, atomic
 * under PIPE_BUF): the core holds no pipe per live task, only a map entry. The task's process
 * calls setsid() (util-linux setsid, which does not fork there), then a few lines of perl set
 * its exact environment, stderr and signal dispositions and exec the executable with the
 * task's argv[0]: no shell stands in the way of what the task sees. Descriptor 3 closes at
 * that exec (the supervisor has closed its own copy), so the core knows the task leads its
 * session and runs its executable before start returns. The task leads its own session and
 * process group, outside the supervisor's, so signals to the task's group never reach the
 * supervisor. The supervisor's own stderr goes to /dev/null, the task's to the log; neither the
 * supervisor's command line nor its environment (only the core's mark) shows the task's words.
 *
 * Without /usr/bin/perl, a forking setsid, mkfifo or /bin/sh, and for a task with stdin (an
 * attached task's stdin needs the core's own pipe handling), the task is spawned directly.
 * A supervisor that dies (killed by hand, the OOM killer) writes no exit: once its task is
 * signalled the core watches the supervisor too and reports the exit as lost. An executable
 * that cannot run fails in the task (exit 127 or 126, the reason in the log) rather than at
 * start (the core checked it exists and is executable first).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants as fsConstants, open } from 'node:fs';
import { access, lstat } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Readable } from 'node:stream';
import { ChurnError } from '../../common/errors.js';
import { shellCommandLine } from './streamed-exec.js';

/**
 * The variable that carries the task's script and argv to the supervisor, quoted for `eval`:
 * in its environment, not its command line, so that only the task's shows the task's words.
 */
const argvVariable = 'CHURN_TASK_ARGV';
/**
 * The supervisor, run by `sh -c` with its argv in {@link argvVariable}: the perl script, then
 * what the script takes. It starts the task in the background (the shell's SIGINT and SIGQUIT
 * ignored there are reset by the script; the FIFO on descriptor 4 is not the task's), reports
 * the task's pid and its own on descriptor 3 and closes it, keeps not the log's stderr (on
 * descriptor 5, for the task), silences its own stderr, waits for the task and writes its pid
 * and exit code into the FIFO.
 */
const supervisorScript = (tools: SupervisorTools): string =>
  `eval "set -- $${argvVariable}"; unset ${argvVariable}; p=$1; shift; exec 5>&2 2>/dev/null; ` +
  `${tools.setsid} ${tools.perl} -e "$p" -- "$@" 4>&- & ` +
  't=$!; echo "pid $t $$" >&3; exec 3>&- 5>&-; wait $t; echo "$t $?" >&4';

/**
 * What the task's process runs once it leads its own session (util-linux setsid, no fork as it
 * leads no group): restore SIGINT and SIGQUIT, let descriptor 3 close at the exec (the core's
 * sign that the task runs), make descriptor 5 its stderr, set the environment (a count, then
 * KEY=VALUE pairs), and exec the executable (next argument) with the argv after it, argv[0]
 * included. Exit 127 (no such file) or 126 (any other failure) as a shell would.
 */
const taskScript = [
  'open(my $k, ">&=", 3) or die; open(my $started, ">&", $k) or die; close($k);',
  '$SIG{INT} = $SIG{QUIT} = "DEFAULT";',
  'open(STDERR, ">&", 5) or die; open(my $l, ">&=", 5) and close($l);',
  'my $n = shift; my %e; for (1 .. $n) { my $kv = shift; my $i = index($kv, "="); $e{substr($kv, 0, $i)} = substr($kv, $i + 1) }',
  '%ENV = %e; my $f = shift;',
  'exec { $f } @ARGV or do { my $c = $!{ENOENT} ? 127 : 126; print STDERR "exec $f: $!\n"; exit $c };',
].join(' ');

/** Host paths of what supervising needs: a `setsid` that can fork, perl, mkfifo and /bin/sh. */
export interface SupervisorTools {
  readonly setsid: string;
  readonly perl: string;
  readonly mkfifo: string;
}

/** The tools, when this host has them; else undefined. */
export async function findSupervisorTools(): Promise<SupervisorTools | undefined> {
  const output = (file: string, args: string[]): Promise<string> =>
    new Promise((resolve) => {
      execFile(file, args, { timeout: 5000 }, (_err, stdout) => resolve(stdout));
    });
  const perl = '/usr/bin/perl';
  if ((await output(perl, ['-e', 'print "ok"'])) !== 'ok') return undefined;
  try {
    await access('/bin/sh', fsConstants.X_OK);
  } catch {
    return undefined;
  }
  const mkfifo = await firstExecutable(['/usr/bin/mkfifo', '/bin/mkfifo']);
  if (mkfifo === undefined) return undefined;
  for (const setsid of ['/usr/bin/setsid', '/bin/setsid']) {
    if ((await output(setsid, ['--help'])).includes('--fork')) return { setsid, perl, mkfifo };
  }
  return undefined;
}

async function firstExecutable(paths: readonly string[]): Promise<string | undefined> {
  for (const path of paths) {
    try {
      await access(path, fsConstants.X_OK);
      return path;
    } catch {
      // The next one.
    }
  }
  return undefined;
}

/** How often an exit line for a pid that still exists is looked at again, ms. */
const recheckExitMs = 100;

/** Whether a process `pid` exists (another user's too); a reaped one does not. */
function processExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Name of the FIFO in the state directory (see {@link TaskExits}). */
export const taskExitsFifo = 'task-exits.fifo';

/**
 * The exits of supervised tasks: one FIFO in the core's (private) state directory. The core
 * opens it for reading and for writing; every supervisor inherits the writing descriptor
 * (not its task, not its user, who may not enter the state directory) and writes one
 * `<pid> <code>` line into it; the core's own writer keeps the reader from an end of file. A
 * supervisor whose task exits after its core ended writes into the pipe's buffer, which the
 * next core on the state directory reads. Lines no task of this core waits for are dropped,
 * save while a spawn is under way: its task may exit before the core has read its pid.
 */
export class TaskExits {
  readonly #socket: Socket;
  /** The writing descriptor, for the supervisors. */
  readonly writeFd: number;
  readonly #waiters = new Map<number, (code: number) => void>();
  /** Exits read while a spawn was under way and no one waited for them yet. */
  readonly #early = new Map<number, number>();
  #spawning = 0;

  private constructor(socket: Socket, writeFd: number) {
    this.#socket = socket;
    this.writeFd = writeFd;
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
        const [pid, code] = text.slice(0, nl).split(' ').map(Number);
        text = text.slice(nl + 1);
        if (pid !== undefined && code !== undefined) this.#exited(pid, code);
      }
    });
    socket.on('error', () => undefined);
  }

  /**
   * Opens (makes, the first time) the FIFO of the state directory `stateDir`; with no tools
   * (`mkfifo` undefined), only an existing one, for what supervisors of an earlier core say.
   */
  static async open(stateDir: string, mkfifo: string | undefined): Promise<TaskExits | undefined> {
    const path = join(stateDir, taskExitsFifo);
    const isFifo = await lstat(path).then(
      (st) => st.isFIFO(),
      () => undefined,
    );
    if (isFifo === false) {
      throw new ChurnError('FAILED_PRECONDITION', `${path} is not a FIFO`);
    }
    if (isFifo === undefined) {
      if (mkfifo === undefined) return undefined;
      await promisify(execFile)(mkfifo, ['-m', '0600', path], { timeout: 5000 });
    }
    // The reader first (a non-blocking open for reading needs no writer), then the writer (a
    // blocking one, which needs a reader). Raw descriptors: a FileHandle closes its own when
    // collected; the socket owns the reader's.
    const openFd = (flags: number): Promise<number> =>
      new Promise<number>((resolve, reject) => {
        open(path, flags, (err, fd) => (err === null ? resolve(fd) : reject(err)));
      });
    const readFd = await openFd(fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    const writeFd = await openFd(fsConstants.O_WRONLY).catch((err: unknown) => {
      closeSync(readFd);
      throw err;
    });
    const socket = new Socket({ fd: readFd, readable: true, writable: false });
    socket.unref();
    return new TaskExits(socket, writeFd);
  }

  /** Marks a spawn under way until the returned function is called. */
  spawning(): () => void {
    this.#spawning += 1;
    return () => {
      this.#spawning -= 1;
      if (this.#spawning === 0) this.#early.clear();
    };
  }

  /** The exit code of task `pid`, once its supervisor writes it. */
  exitOf(pid: number): Promise<number> {
    const early = this.#early.get(pid);
    if (early !== undefined) {
      this.#early.delete(pid);
      return Promise.resolve(early);
    }
    return new Promise((resolve) => this.#waiters.set(pid, resolve));
  }

  /** Stops waiting for `pid` (whose exit is known otherwise). */
  forget(pid: number): void {
    this.#waiters.delete(pid);
  }

  /** Closes the FIFO; what supervisors still write waits in it for the next core. */
  close(): void {
    this.#socket.destroy();
    closeSync(this.writeFd);
  }

  #exited(pid: number, code: number): void {
    // A supervisor writes only once it has reaped its task, so the pid is gone by then. Every
    // task of a user can reach the FIFO through its supervisors' descriptors (same uid), so a
    // line for a pid that still exists is not its supervisor's word: it is looked at again
    // until the pid is gone (the supervisor's own line, when it comes, settles it first).
    if (processExists(pid)) {
      if (this.#waiters.has(pid)) {
        const timer = setTimeout(() => this.#exited(pid, code), recheckExitMs);
        timer.unref();
      }
      return;
    }
    const waiter = this.#waiters.get(pid);
    if (waiter !== undefined) {
      this.#waiters.delete(pid);
      waiter(code);
    } else if (this.#spawning > 0) {
      this.#early.set(pid, code);
    }
  }
}

/** What {@link spawnSupervised} needs besides the command. */
export interface SupervisedSpawn {
  readonly cwd: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly env: Record<string, string>;
  /** The core's mark (name, value), for the supervisor's environment too (task-marker.ts). */
  readonly mark?: readonly [string, string];
  /** Pipes for the task's stdout and stderr (else they go nowhere). */
  readonly output: boolean;
  /**
   * Called with the launcher once it is spawned, in the same tick, to start reading the task's
   * output: the launcher exits at once, and Node then resumes the stdio streams of its child
   * that exited (flushStdio), so output with no reader yet would be read and lost.
   */
  readonly onSpawn?: (child: ChildProcess) => void;
}

/** A supervised task once it runs. */
export interface SupervisedTask {
  readonly pid: number;
  /** Its supervisor's pid. */
  readonly supervisorPid: number;
  /** The task's exit code, as its supervisor writes it into the FIFO. */
  readonly exited: Promise<number>;
}

/**
 * Starts `runnable` (argv[1..] as its arguments) under a supervisor (see the module comment);
 * resolves once the task leads its own session. FAILED_PRECONDITION when it did not get so far.
 */
export async function spawnSupervised(
  tools: SupervisorTools,
  exits: TaskExits,
  runnable: string,
  argv: readonly string[],
  options: SupervisedSpawn,
): Promise<SupervisedTask> {
  const out = options.output ? 'pipe' : 'ignore';
  const envPairs = Object.entries(options.env).map(([k, v]) => `${k}=${v}`);
  const spawned = exits.spawning();
  try {
    const child = spawn(
      tools.setsid,
      ['--fork', '/bin/sh', '-c', supervisorScript(tools), 'churn-supervisor'],
      {
        cwd: options.cwd,
        ...(options.uid === undefined ? {} : { uid: options.uid }),
        ...(options.gid === undefined ? {} : { gid: options.gid }),
        env: {
          ...(options.mark === undefined ? {} : { [options.mark[0]]: options.mark[1] }),
          [argvVariable]: shellCommandLine([
            taskScript,
            String(envPairs.length),
            ...envPairs,
            runnable,
            ...argv,
          ]),
        },
        stdio: ['ignore', out, out, 'pipe', exits.writeFd],
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
    // Everything is read from now on, in this tick: a short task may have exec'd, written its
    // output and exited before the core reads its pid, and Node resumes the pipes of the
    // launcher once it has exited, dropping what no one reads.
    options.onSpawn?.(child);
    // The pipe carries `pid <task> <supervisor>` and closes when the task execs (or dies
    // first): as with a direct spawn, the task runs its own executable when start returns.
    const said = await new Promise<string>((resolve) => {
      let text = '';
      status.setEncoding('latin1');
      status.on('data', (chunk: string) => (text += chunk));
      status.once('close', () => resolve(text));
      status.once('error', () => undefined);
    });
    const [key, taskPid, supervisorPid] = said.trim().split(' ');
    const pid = Number(taskPid);
    if (key !== 'pid' || !(pid > 0)) {
      throw new ChurnError(
        'FAILED_PRECONDITION',
        `cannot run ${argv[0] ?? runnable} (${runnable}): the task's supervisor exited before the task ran`,
      );
    }
    return { pid, supervisorPid: Number(supervisorPid), exited: exits.exitOf(pid) };
  } finally {
    spawned();
  }
}
