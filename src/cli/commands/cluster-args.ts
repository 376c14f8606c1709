/** The flags of `churn cluster run|cleanup` (cluster.ts declares them). */
import { ChurnError } from '../../common/errors.js';
import { parseDurationMs } from '../../scenario/units.js';

/** The flags of `churn cluster`, as yargs gives them. */
export interface ClusterArgs {
  readonly action: 'run' | 'cleanup';
  readonly scenario: string | undefined;
  readonly kubeconfig: string | undefined;
  readonly namespace: string;
  readonly nodes: string[] | undefined;
  readonly 'node-selector': string | undefined;
  readonly image: string;
  readonly 'image-pull-policy': 'Always' | 'IfNotPresent' | 'Never';
  readonly socket: string;
  readonly 'host-network': boolean;
  readonly 'start-delay': string;
  readonly timeout: string | undefined;
  readonly 'report-dir': string | undefined;
  readonly 'run-id': string | undefined;
  readonly duration: string | undefined;
  readonly concurrency: number | undefined;
  readonly rate: number | undefined;
  readonly iterations: number | undefined;
  readonly label: string[] | undefined;
  readonly allow: string[] | undefined;
  readonly all: boolean;
}

/** Milliseconds of a duration flag; USAGE naming the flag otherwise. */
export function durationFlag(text: string, flag: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined || ms < 0) {
    throw new ChurnError('USAGE', `${flag} "${text}": use a duration such as 500ms, 20s or 5m`);
  }
  return ms;
}
