/** `churn run [scenario]`: run a scenario against a runtime and write a report. */
import type { Argv } from 'yargs';
import { ChurnError } from '../../common/errors.js';
import { overrideFlags, overridesFromArgs } from '../../scenario/overrides.js';
import { defineCommand } from '../command.js';
import {
  defaultMetricsLingerMs,
  defaultPushIntervalMs,
  metricsFlagsFromArgs,
  type MetricsArgs,
} from '../metrics-session.js';
import { runSession } from '../run-session.js';
import { formatDurationMs } from '../../scenario/units.js';
import { numberFlag, parsePercent } from '../number-flag.js';
import { parseStartAt } from '../start-at.js';

interface RunArgs extends MetricsArgs {
  scenario?: string;
  'dry-run': boolean;
  quiet: boolean;
  json: boolean;
  'run-id'?: string;
  'start-at'?: string;
  'progress-json': boolean;
  baseline?: string;
  alpha: number;
  'min-effect': string;
  [flag: string]: unknown;
}

/**
 * The examples `churn run --help` shows, as [command, description]; each one that names a
 * shipped scenario must run as described (a test plans them).
 */
export const runExamples: readonly (readonly [string, string])[] = [
  ['$0 run', 'the smoke scenario against the built-in core, about 10 s'],
  ['$0 run scenarios/lifecycle-open-ramp.yaml --dry-run', 'show what would run'],
  [
    '$0 run scenarios/smoke.yaml --driver cri --endpoint unix:///run/containerd/containerd.sock',
    'the same against containerd',
  ],
  [
    '$0 run scenarios/soak-nightly.yaml --duration 4h --label release=1.7.0',
    'a nightly soak, shortened from 6 h to 4 h',
  ],
  [
    '$0 run scenarios/soak-nightly.yaml --baseline latest',
    'a nightly soak that fails (exit 1) when it got slower than the previous run',
  ],
  [
    '$0 run scenarios/soak-nightly.yaml --metrics-port 9464 --target-process containerd',
    'a soak Prometheus scrapes (see docs/metrics.md and dashboards/)',
  ],
];

/** The `run` command. */
export const runCommand = defineCommand<RunArgs>({
  command: 'run [scenario]',
  describe: 'Run a scenario against a runtime and write a report',
  builder(yargs: Argv) {
    let y = yargs.positional('scenario', {
      type: 'string',
      describe:
        'scenario file (YAML); the built-in smoke scenario (scenarios/smoke.yaml) when omitted',
    });
    for (const f of Object.values(overrideFlags)) {
      y = y.option(f.flag.slice(2), {
        type: f.type,
        // The next word is the value even when it starts with a dash: `--duration -1s` is a
        // negative duration (refused with the duration's message), not the flags -1 and -s.
        requiresArg: true,
        describe: f.describe,
        ...(f.array ? { array: true } : {}),
        group: 'Override the scenario:',
      });
    }
    for (const [command, description] of runExamples) y = y.example(command, description);
    return y
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe:
          'validate and print the resolved plan (phases, rates, expected cycles); touch no runtime',
      })
      .option('quiet', {
        type: 'boolean',
        default: false,
        describe: 'print only the report path (errors still go to stderr)',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' })
      .option('run-id', {
        requiresArg: true,
        type: 'string',
        describe: 'run id (labels everything the run creates); random by default',
      })
      .option('start-at', {
        requiresArg: true,
        type: 'string',
        describe:
          'begin the phases at this instant (ISO 8601 with a zone), after connecting and pre-pulling: every node of a cluster run starts together (churn cluster run sets it)',
      })
      .option('progress-json', {
        type: 'boolean',
        default: false,
        describe:
          'write the live status to stderr as one JSON line a second ({"churnProgress":{…}}), for programs such as churn cluster run',
      })
      .option('metrics-port', {
        requiresArg: true,
        type: 'string',
        coerce: numberFlag('--metrics-port'),
        describe:
          'serve Prometheus /metrics on this port for the whole run (0: any free port; the address is printed)',
        group: 'Metrics:',
      })
      .option('metrics-host', {
        requiresArg: true,
        type: 'string',
        describe: 'address /metrics binds to (default 127.0.0.1; 0.0.0.0 for other machines)',
        group: 'Metrics:',
      })
      .option('metrics-linger', {
        requiresArg: true,
        type: 'string',
        describe: `keep serving /metrics this long after the run, so the last scrape sees the final values (default ${formatDurationMs(defaultMetricsLingerMs)}; 0: stop at once; Ctrl-C ends it)`,
        group: 'Metrics:',
      })
      .option('pushgateway', {
        requiresArg: true,
        type: 'string',
        describe:
          'push metrics to this Prometheus Pushgateway during the run and at its end (job=churn, instance, scenario)',
        group: 'Metrics:',
      })
      .option('push-interval', {
        requiresArg: true,
        type: 'string',
        describe: `period of pushes during the run (default ${formatDurationMs(defaultPushIntervalMs)})`,
        group: 'Metrics:',
      })
      .option('pushgateway-delete', {
        type: 'boolean',
        describe: 'delete the pushed group after the final push',
        group: 'Metrics:',
      })
      .option('push-instance', {
        requiresArg: true,
        type: 'string',
        describe: 'the instance grouping label of pushes (default: the host name)',
        group: 'Metrics:',
      })
      .option('target-pid', {
        requiresArg: true,
        type: 'string',
        coerce: numberFlag('--target-pid'),
        describe:
          "sample this process as the runtime daemon (CPU, memory, fds, threads); default: the driver's daemon",
        group: 'Metrics:',
      })
      .option('target-process', {
        requiresArg: true,
        type: 'string',
        describe:
          'sample the process with this name (/proc/<pid>/comm) as the runtime daemon, e.g. containerd',
        group: 'Metrics:',
      })
      .option('baseline', {
        requiresArg: true,
        type: 'string',
        describe:
          'after the run, compare with this report (latest = the previous complete run of the scenario, a tag, or a file) and exit 1 on a regression',
        group: 'Regression gate:',
      })
      .option('alpha', {
        requiresArg: true,
        type: 'string',
        coerce: numberFlag('--alpha'),
        default: 0.05,
        describe: 'significance level of the baseline comparison',
        group: 'Regression gate:',
      })
      .option('min-effect', {
        requiresArg: true,
        type: 'string',
        default: '5%',
        describe: 'smallest change the baseline comparison calls a regression',
        group: 'Regression gate:',
      })
      .epilogue(
        'Ctrl-C stops scheduling and drains in-flight cycles; a second Ctrl-C cuts them off. Either way everything the run created is removed and the report is written, marked partial.\nCheckpoints: every --checkpoint-interval (default auto: 5m for a run planned longer than 5m, none for a shorter one; 0 or off: none) the report so far is written atomically to the path of the final report, marked a checkpoint (exitReason running, partial); the final report replaces it, and a run killed mid-way (kill -9) leaves its last checkpoint, which churn report, history and compare read and say what it is.\nExit codes: 0 ok · 1 a threshold failed, the run aborted, no cycle succeeded, the run was marked harness-bound or overloaded (unless integrity.allow says so), or --baseline found a regression · 2 bad scenario or flags · 3 the run broke · 130/143 stopped by SIGINT/SIGTERM.',
      );
  },
  run(args, io) {
    if (args.quiet && args.json) {
      throw new ChurnError('USAGE', '--quiet and --json cannot be used together: choose one');
    }
    return runSession(
      {
        scenarioPath: args.scenario,
        overrides: overridesFromArgs(args),
        dryRun: args['dry-run'],
        output: args.json ? 'json' : args.quiet ? 'quiet' : 'human',
        runId: args['run-id'],
        progressJson: args['progress-json'],
        ...(args['start-at'] === undefined
          ? {}
          : { startAtWallMs: parseStartAt(args['start-at']) }),
        metrics: metricsFlagsFromArgs(args),
        baseline:
          args.baseline === undefined
            ? undefined
            : {
                ref: args.baseline,
                alpha: args.alpha,
                minEffectPct: parsePercent(args['min-effect'], '--min-effect'),
              },
      },
      io,
    );
  },
});
