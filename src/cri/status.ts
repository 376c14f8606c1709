/**
 * The one place where churn's error codes and gRPC status codes meet, in both directions (as
 * containerd's errdefs does): the server turns what the core throws into a gRPC status, the
 * client turns a gRPC status into a ChurnError whose code is the status code's NAME — the name
 * failed operations are counted by.
 */
import {
  ChurnError,
  isRuntimeErrorCode,
  type ErrorCode,
  type RuntimeErrorCode,
} from '../common/errors.js';
import { grpcCode, grpcCodeName, type GrpcCodeName } from './grpc-codes.js';

const harnessToRuntime: Readonly<Record<Exclude<ErrorCode, RuntimeErrorCode>, RuntimeErrorCode>> = {
  USAGE: 'INVALID_ARGUMENT',
  SCENARIO_INVALID: 'INVALID_ARGUMENT',
  REPORT_INVALID: 'INVALID_ARGUMENT',
  ENDPOINT_INVALID: 'INVALID_ARGUMENT',
  NOT_COMPARABLE: 'FAILED_PRECONDITION',
  IO: 'INTERNAL',
  RUN_BROKEN: 'INTERNAL',
};

/** The name of the gRPC status for a churn error code; harness codes fold onto the nearest kind. */
export function grpcCodeNameFor(code: ErrorCode): GrpcCodeName {
  return isRuntimeErrorCode(code) ? code : harnessToRuntime[code];
}

/** The gRPC status code (number) for a churn error code. */
export function grpcCodeFor(code: ErrorCode): number {
  return grpcCode[grpcCodeNameFor(code)];
}

/**
 * The churn code for a gRPC status code: its name (`NOT_FOUND`, `UNAVAILABLE`, …). OK and
 * numbers outside the gRPC range give UNKNOWN: a failed call always carries a failure code.
 */
export function churnCodeFor(code: number): RuntimeErrorCode {
  const name = grpcCodeName(code);
  return name !== undefined && isRuntimeErrorCode(name) ? name : 'UNKNOWN';
}

/** A failed call's status as an Error: what grpc-js passes a failed call's callback. */
interface StatusError extends Error {
  readonly code: number;
  readonly details: string;
}

/** True when `err` looks like what grpc-js passes a failed call's callback. */
export function isServiceError(err: unknown): err is StatusError {
  return (
    err instanceof Error &&
    typeof (err as Partial<StatusError>).code === 'number' &&
    typeof (err as Partial<StatusError>).details === 'string'
  );
}

/**
 * The ChurnError for a failed CRI call: code = the gRPC status name, message = `context:
 * details` (the runtime's own words). Errors that are not gRPC statuses become UNKNOWN.
 */
export function fromGrpcError(err: unknown, context: string): ChurnError {
  if (err instanceof ChurnError) return err.wrap(context);
  if (isServiceError(err)) {
    const details = err.details === '' ? (grpcCodeName(err.code) ?? 'UNKNOWN') : err.details;
    return new ChurnError(churnCodeFor(err.code), `${context}: ${details}`, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ChurnError('UNKNOWN', `${context}: ${message}`, { cause: err });
}
