/**
 * churn's exit codes, a public contract CI jobs gate on:
 * 0 ok; 1 a threshold or a regression failed, or the run earned a mark its scenario does not
 * allow (harness-bound, overloaded); 2 bad usage or bad input (scenario, report, endpoint); 3 the
 * run itself broke; 130/143/129 stopped by SIGINT/SIGTERM/SIGHUP (report written, partial).
 */
import { isChurnError, type ErrorCode } from '../common/errors.js';
import type { StopSignalName } from './io.js';

/** The exit codes by meaning. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  badInput: 2,
  broken: 3,
  sighup: 129,
  sigint: 130,
  sigterm: 143,
} as const;

/** One of {@link ExitCode}'s values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

const badInputCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'USAGE',
  'SCENARIO_INVALID',
  'REPORT_INVALID',
  'ENDPOINT_INVALID',
  'NOT_COMPARABLE',
  'INVALID_ARGUMENT',
]);

/** The exit code for an error that ended a command: 2 for bad input, 3 otherwise. */
export function exitCodeForError(err: unknown): ExitCodeValue {
  if (isChurnError(err) && badInputCodes.has(err.code)) return ExitCode.badInput;
  return ExitCode.broken;
}

/** The exit code of a run stopped by `signal`. */
export function exitCodeForSignal(signal: StopSignalName): ExitCodeValue {
  switch (signal) {
    case 'SIGINT':
      return ExitCode.sigint;
    case 'SIGTERM':
      return ExitCode.sigterm;
    case 'SIGHUP':
      return ExitCode.sighup;
  }
}
