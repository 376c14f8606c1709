/** `churn run [scenario]`: run a scenario against a runtime and write a report. */
import type { Argv } from 'yargs';
import { ChurnError } from '../../common/errors.js';
import { overrideFlags, overridesFromArgs } from '../../scenario/overrides.js';
import { defineCommand } from '../command.js';
import { runSession } from '../run-session.js';

interface RunArgs {
  scenario?: string;
  'dry-run': boolean;
  quiet: boolean;
  json: boolean;
  'run-id'?: string;
  [flag: string]: unknown;
}

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
        describe: f.describe,
        ...(f.array ? { array: true } : {}),
        group: 'Override the scenario:',
      });
    }
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
        type: 'string',
        describe: 'run id (labels everything the run creates); random by default',
      })
      .example('$0 run', 'the smoke scenario against the built-in core, about 10 s')
      .example('$0 run scenarios/lifecycle-open-ramp.yaml --dry-run', 'show what would run')
      .example(
        '$0 run scenarios/smoke.yaml --driver cri --endpoint unix:///run/containerd/containerd.sock',
        'the same against containerd',
      )
      .example(
        '$0 run scenarios/soak-nightly.yaml --duration 8h --label release=1.7.0',
        'a nightly soak',
      )
      .epilogue(
        'Ctrl-C stops scheduling and drains in-flight cycles; a second Ctrl-C cuts them off. Either way everything the run created is removed and the report is written, marked partial.\nExit codes: 0 ok · 1 a threshold failed, the run aborted, or no cycle succeeded · 2 bad scenario or flags · 3 the run broke · 130/143 stopped by SIGINT/SIGTERM.',
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
      },
      io,
    );
  },
});
