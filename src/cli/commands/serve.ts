/**
 * `churn serve`: the built-in runtime core as a CRI runtime on a unix socket, so any CRI
 * client (churn's cri driver, crictl, critest, a kubelet) can drive it. Runs until SIGTERM or
 * SIGINT, then stops gracefully: no new calls, in-flight calls finish, every task is stopped
 * (no process left), the socket and pid file are removed.
 */
import { readFile, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-file.js';
import { ChurnError } from '../../common/errors.js';
import { CriServer } from '../../cri/server.js';
import type { RuntimeFaults } from '../../runtime/faults.js';
import type { Compat } from '../../runtime/lifecycle.js';
import { RuntimeService } from '../../runtime/service.js';
import { flattenIssues } from '../../scenario/issues.js';
import { ScenarioError, type ScenarioProblem } from '../../scenario/load.js';
import { scenarioErrorMap } from '../../scenario/messages.js';
import { scenarioInputSchema } from '../../scenario/schema.js';
import { formatKeyPath, parseYamlSource } from '../../scenario/yaml-source.js';
import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import type { StopSignalName } from '../io.js';

interface ServeArgs {
  readonly socket: string;
  readonly 'state-dir': string;
  readonly executor: 'process' | 'runc';
  readonly images: string | undefined;
  readonly faults: string | undefined;
  readonly seed: number | undefined;
  readonly compat: Compat;
  readonly 'pid-file': string | undefined;
  readonly 'shutdown-grace': number;
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
        describe: 'how tasks run: process (unprivileged child processes) or runc (root + runc)',
        choices: ['process', 'runc'] as const,
        default: 'process' as const,
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
      .option('seed', { describe: 'seed of fault injection (random by default)', type: 'number' })
      .option('compat', {
        describe:
          "answers to illegal calls: strict (CRI's specific codes) or containerd (as containerd 1.6)",
        choices: ['strict', 'containerd'] as const,
        default: 'strict' as const,
      })
      .option('pid-file', {
        describe: "write the server's pid here (removed on exit)",
        type: 'string',
      })
      .option('shutdown-grace', {
        describe: 'seconds in-flight calls may take to finish on shutdown',
        type: 'number',
        default: 10,
      })
      .example(
        'churn serve --socket /tmp/churn.sock --state-dir /tmp/churn-state',
        'serve the core; then: churn run --driver cri --endpoint unix:///tmp/churn.sock',
      )
      .example(
        'churn serve --socket /tmp/churn.sock --state-dir /tmp/s --faults faults.yaml --seed 1',
        'a runtime that misbehaves in a known way, e.g. faults.yaml: "start: { errorRate: 10%, code: UNAVAILABLE }"',
      )
      .epilogue(
        'Runs until SIGTERM or SIGINT, then stops every container it runs and exits 0. ' +
          'Refuses to start (exit 2) when another server answers on the socket. Docs: docs/containerd.md.',
      ),
  async run(args, io) {
    if (!(args['shutdown-grace'] >= 0)) {
      throw new ChurnError(
        'USAGE',
        `--shutdown-grace ${args['shutdown-grace']}: use a number of seconds ≥ 0`,
      );
    }
    const faults = args.faults === undefined ? {} : await loadFaultsFile(args.faults, io.cwd);
    const socketPath = resolve(io.cwd, args.socket);
    const pidFile = args['pid-file'] === undefined ? undefined : resolve(io.cwd, args['pid-file']);

    // Subscribe before anything starts, so a signal during startup is not lost.
    let stop!: (signal: StopSignalName) => void;
    const stopped = new Promise<StopSignalName>((r) => (stop = r));
    const unsubscribe = io.onStopSignal((signal) => stop(signal));
    try {
      const core = await RuntimeService.open({
        stateDir: resolve(io.cwd, args['state-dir']),
        executor: args.executor,
        ...(args.images !== undefined ? { imagesDir: resolve(io.cwd, args.images) } : {}),
        faults,
        ...(args.seed !== undefined ? { seed: args.seed } : {}),
        compat: args.compat,
      });
      let server: CriServer;
      try {
        server = await CriServer.listen(core, {
          socketPath,
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
        io.stdout.write(
          `churn serve: listening on unix://${socketPath} (pid ${process.pid}, executor ${args.executor}, ` +
            `compat ${args.compat}, seed ${core.options.seed})\n`,
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
    } finally {
      unsubscribe();
    }
  },
});

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
