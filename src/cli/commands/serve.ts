/**
 * `churn serve`: the built-in runtime core as a CRI runtime on a unix socket, so any CRI
 * client (churn's cri driver, crictl, critest, a kubelet) can drive it. Runs until SIGTERM or
 * SIGINT, then stops gracefully: no new calls, in-flight calls finish, every task is stopped
 * (no process left), the socket and pid file are removed.
 */
import { access, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-file.js';
import { ChurnError, isChurnError } from '../../common/errors.js';
import { CriServer } from '../../cri/server.js';
import { isLoopbackAddress } from '../../cri/streaming/streaming-server.js';
import { claimSocketPath } from '../../cri/unix-socket.js';
import type { RuntimeFaults } from '../../runtime/faults.js';
import type { Compat } from '../../runtime/lifecycle.js';
import type { RuntimeServiceOptions } from '../../runtime/options.js';
import {
  coreIdentity,
  formatIdentity,
  readHostAccounts,
  taskUserPolicy,
  taskUserSyntax,
} from '../../runtime/executors/task-user.js';
import { describeRecovery } from '../../runtime/recovery-summary.js';
import { RuntimeService } from '../../runtime/service.js';
import { didYouMean } from '../../scenario/did-you-mean.js';
import { flattenIssues } from '../../scenario/issues.js';
import { ScenarioError, type ScenarioProblem } from '../../scenario/load.js';
import { scenarioErrorMap } from '../../scenario/messages.js';
import { scenarioInputSchema } from '../../scenario/schema.js';
import { formatKeyPath, parseYamlSource } from '../../scenario/yaml-source.js';
import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import type { StopSignalName } from '../io.js';
import { numberFlag } from '../number-flag.js';

const executors = ['process', 'runc'] as const;
const compats = ['strict', 'containerd'] as const;

interface ServeArgs {
  readonly socket: string;
  readonly 'state-dir': string;
  readonly executor: (typeof executors)[number];
  readonly images: string | undefined;
  readonly faults: string | undefined;
  readonly seed: number | undefined;
  readonly compat: Compat;
  readonly 'pid-file': string | undefined;
  readonly 'shutdown-grace': number;
  readonly 'streaming-address': string;
  readonly 'task-user': string | undefined;
  readonly 'supervised-tasks': boolean;
}

/** The `serve` command. */
export const serveCommand = defineCommand<ServeArgs>({
  command: 'serve',
  describe: 'Serve the built-in runtime core over CRI (gRPC) on a unix socket',
  builder: (yargs) =>
    yargs
      .option('socket', {
        describe: 'unix socket to listen on (created with mode 0600)',
        type: 'string',
        demandOption: true,
      })
      .option('state-dir', {
        describe: "the core's state directory (pods, containers, images survive a restart)",
        type: 'string',
        demandOption: true,
      })
      .option('executor', {
        describe:
          'how tasks run: process (child processes on the host: its filesystem, network, pids and IPC, no namespaces; isolated by their uid and gid alone, see --task-user; a request for capabilities, privileged, supplementary groups, masked or read-only paths, a read-only root, other mounts or sysctls is refused) or runc (root + runc: namespaces, users, capabilities, mounts and a writable layer per container, as containerd)',
        choices: executors,
        default: 'process' as const,
        coerce: oneOf('--executor', executors),
      })
      .option('images', {
        describe: 'directory of OCI image archives (.tar) PullImage resolves from',
        type: 'string',
      })
      .option('faults', {
        describe:
          "YAML/JSON file shaped like a scenario's faults: block (latency, errorRate, code per op)",
        type: 'string',
      })
      .option('seed', {
        describe: 'seed of fault injection (random by default)',
        type: 'string',
        coerce: numberFlag('--seed'),
      })
      .option('compat', {
        describe:
          "answers to illegal calls: strict (CRI's specific codes) or containerd (as containerd 1.6)",
        choices: compats,
        default: 'strict' as const,
        coerce: oneOf('--compat', compats),
      })
      .option('pid-file', {
        describe: "write the server's pid here (removed on exit)",
        type: 'string',
      })
      .option('streaming-address', {
        describe:
          'HOST[:PORT] of the streaming server of Exec, Attach and PortForward (crictl exec/attach/port-forward): loopback only (127.x or [::1]); port 0: a free one, printed at start',
        type: 'string',
        default: '127.0.0.1:0',
      })
      .option('task-user', {
        describe: `who the process executor's tasks run as when their container and image name no user: ${taskUserSyntax}. Default when churn runs as root: nobody, 65534:65534 (supplementary groups dropped); a container's run_as_user/run_as_group is applied, but uid 0 only with --task-user 0, the explicit opt-in to root tasks. Not root: tasks run as churn's own user, and other users are refused`,
        type: 'string',
      })
      .option('supervised-tasks', {
        describe:
          "the process executor runs each task under a supervisor process of its own (re-parented to init) instead of as churn's child, so a task's exit costs no more with thousands of live containers (docs/performance.md, issue 13); not for tasks with stdin, nor without /usr/bin/perl, util-linux setsid and mkfifo. --no-supervised-tasks spawns every task as churn's child",
        type: 'boolean',
        default: true,
      })
      .option('shutdown-grace', {
        describe: 'seconds in-flight calls may take to finish on shutdown',
        type: 'string',
        coerce: numberFlag('--shutdown-grace'),
        default: 10,
      })
      .example(
        'churn serve --socket /tmp/churn.sock --state-dir /tmp/churn-state',
        'serve the core; then: churn run --driver cri --endpoint unix:///tmp/churn.sock',
      )
      .example(
        'churn serve --socket /tmp/churn.sock --state-dir /tmp/s --streaming-address 127.0.0.1:10010',
        'streams on a fixed port; then e.g. crictl --runtime-endpoint unix:///tmp/churn.sock exec -it CONTAINER sh',
      )
      .example(
        'churn serve --socket /tmp/churn.sock --state-dir /tmp/s --faults faults.yaml --seed 1',
        'a runtime that misbehaves in a known way, e.g. faults.yaml: "start: { errorRate: 10%, code: UNAVAILABLE }"',
      )
      .epilogue(
        'Runs until SIGTERM or SIGINT, then stops every container it runs and exits 0. ' +
          'Refuses to start (exit 2, leaving nothing behind) when another server answers on the socket, ' +
          'another serve holds the state directory, --images is not a directory, --executor runc is ' +
          'not run as root, --task-user cannot be used, or --streaming-address is not loopback. ' +
          "The process executor's tasks are kept from the host by their uid and gid alone: they share " +
          "the host's filesystem (whatever their user may read or write), network, pids, IPC and kernel; " +
          'use --executor runc to isolate them. On start it prints what it recovered ' +
          'from the state directory (0700; every acknowledged change is fsynced there first) and any loss, ' +
          'and keeps damaged state files aside. Docs: docs/containerd.md, docs/state.md.',
      ),
  async run(args, io) {
    if (!(args['shutdown-grace'] >= 0)) {
      throw new ChurnError(
        'USAGE',
        `--shutdown-grace ${args['shutdown-grace']}: use a number of seconds ≥ 0`,
      );
    }
    const streaming = parseStreamingAddress(args['streaming-address']);
    const faults = args.faults === undefined ? {} : await loadFaultsFile(args.faults, io.cwd);
    const socketPath = resolve(io.cwd, args.socket);
    const stateDir = resolve(io.cwd, args['state-dir']);
    const pidFile = args['pid-file'] === undefined ? undefined : resolve(io.cwd, args['pid-file']);
    // Every check that can refuse the start runs before the state directory is touched.
    const imagesDir =
      args.images === undefined ? undefined : await imagesDirOf(args.images, io.cwd);
    checkExecutor(args.executor);
    checkTaskUser(args['task-user']);
    await claimSocketPath(socketPath);
    const createdDir = await makeStateDir(args['state-dir'], stateDir);

    // Subscribe before anything starts, so a signal during startup is not lost.
    let stop!: (signal: StopSignalName) => void;
    const stopped = new Promise<StopSignalName>((r) => (stop = r));
    const unsubscribe = io.onStopSignal((signal) => stop(signal));
    let started = false;
    try {
      const core = await openCore({
        stateDir,
        executor: args.executor,
        ...(imagesDir !== undefined ? { imagesDir } : {}),
        faults,
        ...(args.seed !== undefined ? { seed: args.seed } : {}),
        compat: args.compat,
        ...(args['task-user'] === undefined ? {} : { taskUser: args['task-user'] }),
        supervisedTasks: args['supervised-tasks'],
        log: (message) => io.stderr.write(`churn serve: ${message}\n`),
      });
      const recovery = describeRecovery(core.recovery);
      for (const line of recovery.info) io.stdout.write(`churn serve: ${line}\n`);
      for (const line of recovery.warnings) io.stderr.write(`churn serve: ${line}\n`);
      let server: CriServer;
      try {
        server = await CriServer.listen(core, {
          socketPath,
          streaming,
          onStreamError: (kind, err) =>
            io.stderr.write(
              `churn serve: ${kind} stream: ${err instanceof Error ? err.message : String(err)}\n`,
            ),
          onInternalError: (method, err) =>
            io.stderr.write(
              `churn serve: ${method} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
            ),
        });
      } catch (err) {
        await core.close();
        throw err;
      }
      try {
        if (pidFile !== undefined) await writeFileAtomic(pidFile, `${process.pid}\n`);
        started = true;
        io.stdout.write(
          `churn serve: listening on unix://${socketPath} (pid ${process.pid}, executor ${args.executor}, ` +
            `process tasks as ${formatIdentity(core.options.taskUserPolicy.taskUser)} by default, ` +
            `compat ${args.compat}, seed ${core.options.seed}, streaming ${server.streaming?.baseUrl ?? 'off'})\n`,
        );
        const signal = await stopped;
        io.stdout.write(`churn serve: ${signal}: stopping\n`);
      } finally {
        await server.close(args['shutdown-grace'] * 1000);
        await core.close();
        if (pidFile !== undefined) await rm(pidFile, { force: true });
      }
      io.stdout.write('churn serve: stopped\n');
      return ExitCode.ok;
    } catch (err) {
      if (!started && createdDir !== undefined) await removeCreatedStateDir(createdDir, stateDir);
      throw err;
    } finally {
      unsubscribe();
    }
  },
});

/**
 * A yargs coerce for a flag with fixed values: USAGE naming the flag, with a did-you-mean,
 * instead of yargs' generic "Invalid values" (and the same value once, not a list).
 */
function oneOf<T extends string>(flag: string, values: readonly T[]): (value: unknown) => T {
  return (value) => {
    if (Array.isArray(value)) {
      throw new ChurnError('USAGE', `${flag} is given ${value.length} times: give it once`);
    }
    const text = String(value);
    if ((values as readonly string[]).includes(text)) return text as T;
    throw new ChurnError(
      'USAGE',
      `${flag}: unknown value "${text}"${didYouMean(text, values)}: use one of ${values.join(', ')}`,
    );
  };
}

/** The absolute path of `--images` `flag`; USAGE unless it is a directory churn can list. */
async function imagesDirOf(flag: string, cwd: string): Promise<string> {
  const dir = resolve(cwd, flag);
  try {
    await readdir(dir);
    return dir;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'ENOTDIR'
          ? 'is not a directory'
          : `cannot be listed (${(err as Error).message})`;
    const where = flag === dir ? flag : `${flag} (${dir})`;
    throw new ChurnError(
      'USAGE',
      `--images ${where}: ${problem}; give the directory of OCI image archives (.tar) PullImage resolves from`,
      { cause: err },
    );
  }
}

/** USAGE when `--executor runc` cannot work in this process (it needs root). */
function checkExecutor(executor: (typeof executors)[number]): void {
  const uid = process.getuid?.();
  if (executor === 'runc' && uid !== 0) {
    throw new ChurnError(
      'USAGE',
      `--executor runc needs root (churn serve runs as uid ${uid ?? 'unknown'}): run it as root, or use --executor process`,
    );
  }
}

/** USAGE when `--task-user` is malformed, unknown on the host, or not churn's own user without root. */
export function checkTaskUser(taskUser: string | undefined): void {
  if (Array.isArray(taskUser)) {
    throw new ChurnError('USAGE', `--task-user is given ${taskUser.length} times: give it once`);
  }
  try {
    taskUserPolicy(taskUser, coreIdentity(), readHostAccounts);
  } catch (err) {
    throw new ChurnError('USAGE', `--task-user ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Creates the state directory (and missing parents); resolves the topmost directory this call
 * created, which a refused start removes again, or undefined when it existed. USAGE when it
 * cannot be created.
 */
async function makeStateDir(flag: string, dir: string): Promise<string | undefined> {
  try {
    return await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new ChurnError(
      'USAGE',
      `--state-dir ${flag}: cannot create ${dir}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * Removes what a refused start created, unless another core has meanwhile taken the state
 * directory (its lock file, core.lock, is there: the core removes its own when it fails to
 * open): a second serve that raced for the same fresh directory must not lose its state.
 */
async function removeCreatedStateDir(created: string, stateDir: string): Promise<void> {
  const held = await access(join(stateDir, 'core.lock')).then(
    () => true,
    () => false,
  );
  if (!held) await rm(created, { recursive: true, force: true });
}

/**
 * Opens the core. Here the core's options are the user's flags, so a precondition the core
 * refuses to open on (the state directory held by another running core, runc missing, state
 * that needs an executor this process cannot run) is bad usage (exit 2), not a broken run.
 */
async function openCore(options: RuntimeServiceOptions): Promise<RuntimeService> {
  try {
    return await RuntimeService.open(options);
  } catch (err) {
    if (isChurnError(err, 'FAILED_PRECONDITION')) {
      throw new ChurnError('USAGE', err.message, { cause: err });
    }
    throw err;
  }
}

/**
 * Reads a faults file: YAML or JSON shaped like a scenario's `faults:` block, validated by the
 * scenario schema's own rules. SCENARIO_INVALID listing every problem with file:line:column.
 */
export async function loadFaultsFile(path: string, cwd: string): Promise<RuntimeFaults> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, path), 'utf8');
  } catch (err) {
    throw new ChurnError(
      'SCENARIO_INVALID',
      `${path}: cannot read faults file: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const source = parseYamlSource(text);
  const problem = (
    position: { line: number; column: number },
    keyPath: readonly (string | number)[],
    message: string,
  ): ScenarioProblem => ({
    source: path,
    line: position.line,
    column: position.column,
    flag: undefined,
    path: formatKeyPath(['faults', ...keyPath]),
    message,
  });
  if (source.problems.length > 0) {
    throw new ScenarioError(
      path,
      source.problems.map((p) => problem(p.position, p.path, p.message)),
    );
  }
  const schema = scenarioInputSchema.shape.faults;
  const value = source.value ?? {};
  const result = schema.safeParse(value, { error: scenarioErrorMap });
  if (result.success) return result.data;
  throw new ScenarioError(
    path,
    flattenIssues(result.error.issues, schema, value).map((issue) =>
      problem(source.locate(issue.path, issue.target), issue.path, issue.message),
    ),
  );
}

/** `--streaming-address` HOST[:PORT] (IPv6 in brackets); USAGE unless a loopback address. */
export function parseStreamingAddress(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(value.trim());
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3] ?? '0');
  if (host === undefined || !isLoopbackAddress(host) || port > 65535) {
    throw new ChurnError(
      'USAGE',
      `--streaming-address ${value}: use a loopback HOST[:PORT], e.g. 127.0.0.1:0 or [::1]:10010 (streams are served on loopback only)`,
    );
  }
  return { host, port };
}
