/**
 * One error type for all of churn, with a stable `code` users and tests can match on.
 *
 * The runtime codes are named after gRPC status codes on purpose: the built-in core raises
 * them, the CRI layer converts them to and from gRPC status in exactly one place
 * (`cri/status.ts`), and the harness counts failed operations by these names whichever
 * driver produced them. The harness codes describe bad input or a broken run and decide the
 * CLI's exit code. docs/errors.md lists them all.
 */

/** Codes a runtime (built-in core or a CRI daemon) can answer an operation with. */
export const runtimeErrorCodes = [
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** A code a runtime can answer with; see {@link runtimeErrorCodes}. */
export type RuntimeErrorCode = (typeof runtimeErrorCodes)[number];

/** Codes for problems of the harness itself rather than of the runtime under test. */
export const harnessErrorCodes = [
  /** Bad command-line usage: unknown flag, missing argument, conflicting options. */
  'USAGE',
  /** A scenario file that does not parse or validate. */
  'SCENARIO_INVALID',
  /** A report file that is truncated, not JSON, of a future version or of the wrong shape. */
  'REPORT_INVALID',
  /** An endpoint that is malformed or cannot be reached at the start of a run. */
  'ENDPOINT_INVALID',
  /** Two reports that cannot be compared or merged (different scenarios, say). */
  'NOT_COMPARABLE',
  /** A file or directory churn needs cannot be read or written. */
  'IO',
  /** The run could not go on: driver lost, cleanup failed, an invariant broke. */
  'RUN_BROKEN',
] as const;

/** A harness error code; see {@link harnessErrorCodes}. */
export type HarnessErrorCode = (typeof harnessErrorCodes)[number];

/** Every code a {@link ChurnError} can carry. */
export type ErrorCode = RuntimeErrorCode | HarnessErrorCode;

const runtimeCodeSet: ReadonlySet<string> = new Set(runtimeErrorCodes);

/** True when `code` is one of the runtime codes (gRPC status names). */
export function isRuntimeErrorCode(code: string): code is RuntimeErrorCode {
  return runtimeCodeSet.has(code);
}

/** The error churn throws everywhere; `code` is stable, `message` says what and where. */
export class ChurnError extends Error {
  override readonly name = 'ChurnError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** A copy of this error whose message is prefixed with `context`, same code, this as cause. */
  wrap(context: string): ChurnError {
    return new ChurnError(this.code, `${context}: ${this.message}`, { cause: this });
  }
}

/** True when `err` is a {@link ChurnError}, and of `code` when one is given. */
export function isChurnError(err: unknown, code?: ErrorCode): err is ChurnError {
  return err instanceof ChurnError && (code === undefined || err.code === code);
}

/**
 * Turns anything thrown into a ChurnError: ChurnErrors pass through, AbortErrors become
 * CANCELLED, everything else becomes `fallback` (UNKNOWN by default) with the original as cause.
 */
export function toChurnError(err: unknown, fallback: ErrorCode = 'UNKNOWN'): ChurnError {
  if (err instanceof ChurnError) return err;
  if (err instanceof Error) {
    if (err.name === 'AbortError') return new ChurnError('CANCELLED', err.message, { cause: err });
    return new ChurnError(fallback, err.message, { cause: err });
  }
  return new ChurnError(fallback, String(err));
}

/** Shorthands for the runtime error kinds the core raises most. */
export const errors = {
  notFound: (what: string): ChurnError => new ChurnError('NOT_FOUND', `${what} not found`),
  alreadyExists: (what: string): ChurnError =>
    new ChurnError('ALREADY_EXISTS', `${what} already exists`),
  failedPrecondition: (message: string): ChurnError =>
    new ChurnError('FAILED_PRECONDITION', message),
  invalidArgument: (message: string): ChurnError => new ChurnError('INVALID_ARGUMENT', message),
  unavailable: (message: string): ChurnError => new ChurnError('UNAVAILABLE', message),
  internal: (message: string, cause?: unknown): ChurnError =>
    new ChurnError('INTERNAL', message, { cause }),
} as const;
