/**
 * The one place where churn's error codes and gRPC status codes meet, in both directions (as
 * containerd's errdefs does): the server turns what the core throws into a gRPC status, the
 * client turns a gRPC status into a ChurnError whose code is the status code's NAME — the name
 * failed operations are counted by.
 */
import {
  Metadata,
  status as GrpcStatus,
  type ServiceError,
  type StatusObject,
} from '@grpc/grpc-js';
import {
  ChurnError,
  isRuntimeErrorCode,
  type ErrorCode,
  type RuntimeErrorCode,
} from '../common/errors.js';

/** A gRPC status code number (grpc-js `status`). */
export type GrpcCode = GrpcStatus;

const harnessToRuntime: Readonly<Record<Exclude<ErrorCode, RuntimeErrorCode>, RuntimeErrorCode>> = {
  USAGE: 'INVALID_ARGUMENT',
  SCENARIO_INVALID: 'INVALID_ARGUMENT',
  REPORT_INVALID: 'INVALID_ARGUMENT',
  ENDPOINT_INVALID: 'INVALID_ARGUMENT',
  NOT_COMPARABLE: 'FAILED_PRECONDITION',
  IO: 'INTERNAL',
  RUN_BROKEN: 'INTERNAL',
};

/** The gRPC status code for a churn error code; harness codes fold onto the nearest kind. */
export function grpcCodeFor(code: ErrorCode): GrpcCode {
  const name = isRuntimeErrorCode(code) ? code : harnessToRuntime[code];
  return GrpcStatus[name];
}

/**
 * The churn code for a gRPC status code: its name (`NOT_FOUND`, `UNAVAILABLE`, …). OK and
 * numbers outside the gRPC range give UNKNOWN: a failed call always carries a failure code.
 */
export function churnCodeFor(code: number): RuntimeErrorCode {
  const name = (GrpcStatus as unknown as Record<number, string | undefined>)[code];
  return name !== undefined && isRuntimeErrorCode(name) ? name : 'UNKNOWN';
}

/**
 * What the server answers for an error thrown by the core: ChurnErrors keep their code,
 * aborts become CANCELLED, anything else is UNKNOWN (a bug or an unexpected failure, as
 * containerd answers for errors it has no kind for). The message travels as the details.
 */
export function toGrpcStatus(err: unknown): Partial<StatusObject> {
  if (err instanceof ChurnError) {
    return { code: grpcCodeFor(err.code), details: err.message, metadata: new Metadata() };
  }
  if (err instanceof Error) {
    const code = err.name === 'AbortError' ? GrpcStatus.CANCELLED : GrpcStatus.UNKNOWN;
    return { code, details: err.message, metadata: new Metadata() };
  }
  return { code: GrpcStatus.UNKNOWN, details: String(err), metadata: new Metadata() };
}

/** True when `err` looks like what grpc-js passes a failed call's callback. */
export function isServiceError(err: unknown): err is ServiceError {
  return (
    err instanceof Error &&
    typeof (err as Partial<ServiceError>).code === 'number' &&
    typeof (err as Partial<ServiceError>).details === 'string'
  );
}

/**
 * The ChurnError for a failed CRI call: code = the gRPC status name, message = `context:
 * details` (the runtime's own words). Errors that are not gRPC statuses become UNKNOWN.
 */
export function fromGrpcError(err: unknown, context: string): ChurnError {
  if (err instanceof ChurnError) return err.wrap(context);
  if (isServiceError(err)) {
    const details = err.details === '' ? GrpcStatus[err.code] : err.details;
    return new ChurnError(churnCodeFor(err.code), `${context}: ${details}`, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ChurnError('UNKNOWN', `${context}: ${message}`, { cause: err });
}
