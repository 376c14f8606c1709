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
 * private memory) writes the task's pid on descriptor 3, a pipe the core reads, waits for it
 * and writes `exit <code>` there (128 + signal for a signal, as exitCodeOf says). The task's
 * process calls setsid() (util-linux setsid, which does not fork there), then a few lines of
 * perl set its exact environment, stderr and signal dispositions and exec the executable with
 * the task's argv[0]: no shell stands in the way of what the task sees. Descriptor 5 closes
 * at that exec, so the core knows the task leads its session and runs its executable before
 * start returns. The task leads its own session and process group, outside the supervisor's,
 * so signals to the task's group never reach the supervisor. The supervisor's own stderr goes
 * to /dev/null, the task's to the log; neither the supervisor's command line nor its
 * environment (only the core's mark) shows the task's words.
 *
 * Without /usr/bin/perl, a forking setsid or /bin/sh, and for a task with stdin (an attached
 * task's stdin needs the core's own pipe handling), the task is spawned directly, as before.
 * An executable that cannot run fails in the task (exit 127 or 126, the reason in the log)
 * rather than at start (the core checked it exists and is executable first).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, constants as fsConstants } from 'node:fs/promises';
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
 * ignored there are reset by the script), reports its pid, keeps neither the log's stderr (on
 * descriptor 4, for the task) nor the started pipe (5), silences its own stderr, waits for
 * the task and reports its exit code.
 */
const supervisorScript = (tools: SupervisorTools): string =>
  `eval "set -- $${argvVariable}"; unset ${argvVariable}; p=$1; shift; exec 4>&2 2>/dev/null; ` +
  `${tools.setsid} ${tools.perl} -e "$p" -- "$@" 3>&- & ` +
  'echo "pid $!" >&3; exec 4>&- 5>&-; wait $!; echo "exit $?" >&3';

/**
 * What the task's process runs once it leads its own session (util-linux setsid, no fork as it
 * leads no group): restore SIGINT and SIGQUIT, let descriptor 5 close at the exec (the core's
 * sign that the task runs), make descriptor 4 its stderr, set the environment (a count, then
 * KEY=VALUE pairs), and exec the executable (next argument) with the argv after it, argv[0]
 * included. Exit 127 (no such file) or 126 (any other failure) as a shell would.
 */
const taskScript = [
  'open(my $k, ">&=", 5) or die; open(my $started, ">&", $k) or die; close($k);',
  '$SIG{INT} = $SIG{QUIT} = "DEFAULT";',
  'open(STDERR, ">&", 4) or die; open(my $l, ">&=", 4) and close($l);',
  'my $n = shift; my %e; for (1 .. $n) { my $kv = shift; my $i = index($kv, "="); $e{substr($kv, 0, $i)} = substr($kv, $i + 1) }',
  '%ENV = %e; my $f = shift;',
  'exec { $f } @ARGV or do { my $c = $!{ENOENT} ? 127 : 126; print STDERR "exec $f: $!\n"; exit $c };',
].join(' ');

/** Host paths of what supervising needs: a `setsid` that can fork, perl and /bin/sh. */
export interface SupervisorTools {
  readonly setsid: string;
  readonly perl: string;
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
  for (const setsid of ['/usr/bin/setsid', '/bin/setsid']) {
    if ((await output(setsid, ['--help'])).includes('--fork')) return { setsid, perl };
  }
  return undefined;
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
  const envPairs = Object.entries(options.env).map(([k, v]) => `${k}=${v}`);
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
      stdio: ['ignore', out, out, 'pipe', 'ignore', 'pipe'],
    },
  );
  const status = child.stdio[3] as Readable | null;
  const started = (child.stdio as unknown as (Readable | null)[])[5] ?? null;
  if (child.pid === undefined || status === null || started === null) {
    const err = await new Promise<Error>((resolve) => child.once('error', resolve));
    throw new ChurnError(
      'FAILED_PRECONDITION',
      `cannot run ${argv[0] ?? runnable} (${runnable}): ${err.message}`,
      { cause: err },
    );
  }
  // Everything is read from now on, in this tick: a short task may have exec'd (closing the
  // started pipe), written its output and exited before the core reads its pid, and Node
  // resumes the pipes of the launcher once it has exited, dropping what no one reads.
  options.onSpawn?.(child);
  const execd = new Promise<void>((resolve) => {
    started.once('close', resolve);
    started.resume();
  });
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
  // The started pipe closes when the task execs (or dies first): as with a direct spawn, the
  // task runs its own executable by the time start returns.
  await execd;
  return {
    pid: taskPid,
    child,
    exited: exited.finally(() => status.destroy()),
  };
}
