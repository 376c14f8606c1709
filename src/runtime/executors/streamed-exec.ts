/**
 * What both executors do for an interactive exec (CRI Exec through the streaming server): wire
 * the client's streams to the command's, put the command on a terminal when asked, follow the
 * client's terminal size, kill the command when the client goes, and give its exit code.
 *
 * A terminal without native code: the command runs under util-linux `script` (`script -q -e
 * -c CMD /dev/null`), which gives it a pseudo-terminal and copies between that terminal and
 * its own stdin/stdout pipes; `-e` makes script exit with the command's code. The size is set
 * on the terminal itself (`stty -F /dev/pts/N rows H cols W`, a TIOCSWINSZ that also sends
 * SIGWINCH to the terminal's foreground group), found as fd 0 of script's child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../common/clock.js';
import { ChurnError } from '../../common/errors.js';
import type { StreamIo, TerminalSize } from '../types.js';
import { exitCodeOf } from './task-supervision.js';

/** How long output may keep flowing after the command exited (a child holding the pipe). */
const outputDrainMs = 2000;
/** Attempts, 10 ms apart, to find the terminal of a command that just started. */
const ptyLookupAttempts = 100;

/** The host path of util-linux `script`, looked up in this process's PATH (not the container's). */
export function scriptCommand(): string {
  return hostCommand('script');
}

/** The host path of bash, if it has one (for `exec -a`; see {@link scriptArgs}). */
export function hostBash(): string | undefined {
  const path = hostCommand('bash');
  return path.startsWith('/') ? path : undefined;
}

/** `name` resolved in this process's PATH, or `name` itself (spawn then reports ENOENT). */
function hostCommand(name: string): string {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  return name;
}

/** `argv` as one POSIX shell command line, each word single-quoted. */
export function shellCommandLine(argv: readonly string[]): string {
  return argv.map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(' ');
}

/**
 * Arguments of `script` running `argv` (through `$SHELL -c 'exec …'`) on a new terminal;
 * `commandShell` is the command's own SHELL, restored for it (script needs SHELL set to a shell
 * of the host). With `argv0` the command gets it as argv[0] (`exec -a`: SHELL must be bash).
 */
export function scriptArgs(
  argv: readonly string[],
  commandShell: string | undefined,
  argv0?: string,
): string[] {
  const restore =
    commandShell === undefined
      ? 'unset SHELL; '
      : `SHELL=${shellCommandLine([commandShell])}; export SHELL; `;
  const exec = argv0 === undefined ? 'exec' : `exec -a ${shellCommandLine([argv0])}`;
  return ['-q', '-e', '-c', `${restore}${exec} ${shellCommandLine(argv)}`, '/dev/null'];
}

/** What {@link runStreamed} needs besides the child. */
export interface StreamedExecOptions {
  readonly clock: Clock;
  /** The command runs under `script` (see the module comment). */
  readonly tty: boolean;
  /** Kills the command and everything it started; called when the client goes. */
  readonly kill: () => void | Promise<void>;
  /** For messages. */
  readonly containerId: string;
  readonly argv: readonly string[];
}

/**
 * Wires `child` (spawned with stdin piped when `io.stdin` is set, stdout and stderr piped) to
 * `io`, and resolves with its exit code once it exited and its output was written (at most
 * {@link outputDrainMs} after the exit). Rejects with FAILED_PRECONDITION when it cannot run.
 */
export async function runStreamed(
  child: ChildProcess,
  io: StreamIo,
  options: StreamedExecOptions,
): Promise<number> {
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (err) =>
        reject(
          new ChurnError(
            'FAILED_PRECONDITION',
            `container "${options.containerId}": cannot run ${options.argv[0] ?? ''}: ${err.message}`,
            { cause: err },
          ),
        ),
      );
    },
  );
  if (child.stdin !== null) {
    child.stdin.on('error', () => undefined); // EPIPE once the command stopped reading
    // Under `script` (a tty) stdin stays open when the client sends none: at its end script
    // would write the terminal's EOF character to the command (echoed as "^@" or "^D").
    if (io.stdin !== undefined) io.stdin.pipe(child.stdin);
    else if (!options.tty) child.stdin.end();
  }
  const copies = [copyOut(child.stdout, io.stdout), copyOut(child.stderr, io.stderr)];
  const onAbort = (): void => void Promise.resolve(options.kill()).catch(() => undefined);
  if (io.signal.aborted) onAbort();
  else io.signal.addEventListener('abort', onAbort, { once: true });
  if (options.tty && child.pid !== undefined) followTerminalSize(child.pid, io, options.clock);
  try {
    const { code, signal } = await exit;
    await Promise.race([Promise.all(copies), options.clock.sleep(outputDrainMs)]);
    return exitCodeOf(code, signal);
  } finally {
    io.signal.removeEventListener('abort', onAbort);
    if (io.stdin !== undefined && child.stdin !== null) io.stdin.unpipe(child.stdin);
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
}

/** Copies `from` into `to` (without ending it), or discards it; resolves at its end. */
function copyOut(
  from: NodeJS.ReadableStream | null,
  to: NodeJS.WritableStream | undefined,
): Promise<void> {
  if (from === null) return Promise.resolve();
  return new Promise((resolve) => {
    from.on('end', resolve);
    from.on('close', resolve);
    from.on('error', () => resolve());
    if (to === undefined) from.resume();
    else from.pipe(to, { end: false });
  });
}

/** Applies each size the client sends to the terminal of `scriptPid`'s command, in order. */
function followTerminalSize(scriptPid: number, io: StreamIo, clock: Clock): void {
  let pty: Promise<string | undefined> | undefined;
  let chain: Promise<void> = Promise.resolve();
  io.onResize((size) => {
    pty ??= findTerminal(scriptPid, clock);
    chain = chain.then(async () => {
      const path = await pty;
      if (path !== undefined) await setTerminalSize(path, size);
    });
  });
}

/** /dev/pts/N of the command `script` (pid `scriptPid`) runs, once it has started. */
async function findTerminal(scriptPid: number, clock: Clock): Promise<string | undefined> {
  for (let attempt = 0; attempt < ptyLookupAttempts; attempt++) {
    const children = await readFile(`/proc/${scriptPid}/task/${scriptPid}/children`, 'utf8').catch(
      () => undefined,
    );
    if (children === undefined) return undefined; // script is gone
    for (const pid of children.trim().split(/\s+/).filter(Boolean)) {
      const link = await readlink(`/proc/${pid}/fd/0`).catch(() => '');
      if (link.startsWith('/dev/pts/')) return link;
    }
    await clock.sleep(10);
  }
  return undefined;
}

function setTerminalSize(path: string, size: TerminalSize): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(
      hostCommand('stty'),
      ['-F', path, 'rows', String(size.height), 'cols', String(size.width)],
      { stdio: 'ignore' },
    );
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
}
