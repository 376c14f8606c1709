/** `churn cleanup (--run-id ID | --all)`: remove what a killed run left, found by its labels. */
import type { Argv } from 'yargs';
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChurnError, isChurnError } from '../../common/errors.js';
import { BuiltinDriver, temporaryStateDirPrefix } from '../../drivers/builtin.js';
import { createDriver, type DriverTarget } from '../../drivers/registry.js';
import { runIdLabel } from '../../load/cycle.js';
import { sweep, type SweepTarget } from '../../load/sweep.js';
import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { numberFlag } from '../number-flag.js';

interface CleanupArgs {
  'run-id'?: string;
  all: boolean;
  driver: 'builtin' | 'cri' | 'containerd';
  endpoint: string;
  address: string;
  namespace: string;
  'state-dir'?: string;
  executor: 'process' | 'runc';
  'call-timeout': number;
}

/** The `cleanup` command. */
export const cleanupCommand = defineCommand<CleanupArgs>({
  command: 'cleanup',
  describe: 'Remove the pods and containers a killed run left behind, found by label',
  builder(yargs: Argv) {
    return yargs
      .option('run-id', {
        type: 'string',
        describe: `remove what the run with this id created (label ${runIdLabel}=ID)`,
      })
      .option('all', {
        type: 'boolean',
        default: false,
        describe: `remove everything any churn run created (any ${runIdLabel} label)`,
      })
      .option('driver', {
        choices: ['builtin', 'cri', 'containerd'] as const,
        default: 'cri' as const,
        describe: 'runtime driver',
      })
      .option('endpoint', {
        type: 'string',
        default: 'unix:///run/containerd/containerd.sock',
        describe: 'CRI endpoint (driver cri)',
      })
      .option('address', {
        type: 'string',
        default: '/run/containerd/containerd.sock',
        describe: "containerd's socket (driver containerd)",
      })
      .option('namespace', {
        type: 'string',
        default: 'churn-native',
        describe: 'containerd namespace (driver containerd)',
      })
      .option('state-dir', {
        type: 'string',
        describe:
          "the built-in core's state directory (driver builtin; the scenario's target.stateDir). Without it: the temporary state dirs ($TMPDIR/churn-core-*) of killed runs",
      })
      .option('executor', {
        choices: ['process', 'runc'] as const,
        default: 'process' as const,
        describe: 'executor of the built-in core (driver builtin)',
      })
      .option('call-timeout', {
        type: 'string',
        coerce: numberFlag('--call-timeout'),
        default: 60,
        describe: 'deadline of each runtime call, seconds',
      })
      .example(
        '$0 cleanup --all --driver containerd --address /tmp/churn-containerd/containerd.sock --namespace churn-native',
        '',
      )
      .example(
        '$0 cleanup --run-id 3c8937208e87 --endpoint unix:///run/containerd/containerd.sock',
        '',
      )
      .example('$0 cleanup --all --driver builtin --state-dir /var/lib/churn', '')
      .example(
        '$0 cleanup --all --driver builtin',
        'after a kill -9 of a run on the built-in core: its temporary state dir, tasks and all',
      )
      .epilogue(
        'A run removes what it created even when stopped with Ctrl-C; this is for runs that were killed (SIGKILL, OOM, a lost node). The run id is printed at the start of every run and is in its report.',
      );
  },
  async run(args, io) {
    const target = sweepTarget(args);
    if (args.driver === 'builtin' && args['state-dir'] === undefined) {
      return cleanOrphanedCores(args, target, io);
    }
    const driverTarget: DriverTarget = {
      driver: args.driver,
      endpoint: args.endpoint,
      runtimeHandler: '',
      callTimeout: args['call-timeout'] * 1000,
      executor: args.executor,
      stateDir: args['state-dir'],
      address: args.address,
      namespace: args.namespace,
    };
    const driver = await createDriver(driverTarget);
    try {
      await driver.connect();
      const result = await sweep(driver, target);
      const found = result.sweptContainers + result.sweptPods;
      const runs = result.runIds.length > 0 ? ` of run ${result.runIds.join(', ')}` : '';
      io.stdout.write(
        found === 0
          ? `nothing to clean up${'runId' in target ? ` for run ${target.runId}` : ''}\n`
          : `removed ${result.sweptContainers - result.remainingContainers} containers and ${result.sweptPods - result.remainingPods} pods${runs}\n`,
      );
      if (result.remainingContainers + result.remainingPods > 0) {
        io.stderr.write(
          `churn: ${result.remainingContainers} containers and ${result.remainingPods} pods could not be removed\n`,
        );
        return ExitCode.broken;
      }
      return ExitCode.ok;
    } finally {
      await driver.close();
    }
  },
});

/**
 * `--driver builtin` without `--state-dir`: the temporary state directories of runs whose
 * churn and core were both killed (`$TMPDIR/churn-core-*`, named at each run's start). Each
 * one no live core holds is opened (which stops the tasks its dead core recorded), swept and
 * removed; one a live run holds is left alone.
 */
async function cleanOrphanedCores(
  args: CleanupArgs,
  target: SweepTarget,
  io: CliIo,
): Promise<number> {
  const dirs = (await readdir(tmpdir()).catch(() => [] as string[]))
    .filter((name) => name.startsWith(temporaryStateDirPrefix))
    .map((name) => join(tmpdir(), name));
  let removedDirs = 0;
  let failed = 0;
  for (const dir of dirs) {
    const driver = new BuiltinDriver({ stateDir: dir, executor: args.executor });
    try {
      await driver.connect();
    } catch (err) {
      await driver.close().catch(() => undefined);
      if (isChurnError(err) && err.code === 'FAILED_PRECONDITION') {
        io.stdout.write(`${dir}: in use by a live run, left alone\n`);
      } else {
        failed += 1;
        io.stderr.write(`churn: ${dir}: cannot open: ${(err as Error).message}\n`);
      }
      continue;
    }
    try {
      const result = await sweep(driver, target);
      const left = result.remainingContainers + result.remainingPods;
      io.stdout.write(
        `${dir}: removed ${result.sweptContainers - result.remainingContainers} containers and ${result.sweptPods - result.remainingPods} pods\n`,
      );
      if (left > 0) {
        failed += 1;
        io.stderr.write(`churn: ${dir}: ${left} objects could not be removed; dir kept\n`);
        continue;
      }
    } finally {
      await driver.close();
    }
    // Only a sweep of every run empties the core: with --run-id other runs' objects stay.
    if ('allRuns' in target) {
      await rm(dir, { recursive: true, force: true });
      removedDirs += 1;
      io.stdout.write(`${dir}: removed\n`);
    }
  }
  if (dirs.length === 0) io.stdout.write('no temporary core state left by a killed run\n');
  else if (removedDirs > 0) io.stdout.write(`removed ${removedDirs} temporary core state dirs\n`);
  return failed > 0 ? ExitCode.broken : ExitCode.ok;
}

function sweepTarget(args: CleanupArgs): SweepTarget {
  if (args.all && args['run-id'] !== undefined) {
    throw new ChurnError('USAGE', 'give --run-id ID or --all, not both');
  }
  if (args.all) return { allRuns: true };
  if (args['run-id'] === undefined || args['run-id'] === '') {
    throw new ChurnError(
      'USAGE',
      'say what to remove: --run-id ID (one run) or --all (every churn run)',
    );
  }
  return { runId: args['run-id'] };
}
