/**
 * The wrapper every unary CRI handler goes through: the request is checked against the size
 * limits (request-limits.ts) before anything else sees it, the handler's answer or error goes
 * back as a gRPC reply, and surprises (not a ChurnError, or INTERNAL) go to the daemon's log.
 */
import {
  Metadata,
  status as GrpcStatus,
  type handleUnaryCall,
  type sendUnaryData,
  type ServerUnaryCall,
  type StatusObject,
} from '@grpc/grpc-js';
import { ChurnError } from '../common/errors.js';
import { checkRequestLimits } from './request-limits.js';
import { grpcCodeNameFor } from './status.js';

/**
 * What the server answers for an error thrown by the core: ChurnErrors keep their code,
 * aborts become CANCELLED, anything else is UNKNOWN (a bug or an unexpected failure, as
 * containerd answers for errors it has no kind for). The message travels as the details.
 */
export function toGrpcStatus(err: unknown): Partial<StatusObject> {
  if (err instanceof ChurnError) {
    return {
      code: GrpcStatus[grpcCodeNameFor(err.code)],
      details: err.message,
      metadata: new Metadata(),
    };
  }
  if (err instanceof Error) {
    const code = err.name === 'AbortError' ? GrpcStatus.CANCELLED : GrpcStatus.UNKNOWN;
    return { code, details: err.message, metadata: new Metadata() };
  }
  return { code: GrpcStatus.UNKNOWN, details: String(err), metadata: new Metadata() };
}

/** Told of each call that failed with a surprise, for the daemon's log. */
export type ErrorHook = (method: string, err: unknown) => void;

/** A grpc-js unary handler of `method` running `fn`. */
export function unary<Req, Res>(
  method: string,
  onError: ErrorHook,
  fn: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    // fn is async: it reports every failure, validation included, through the promise; the
    // size limits are checked first, so nothing over them reaches the core.
    let answer: Promise<Res>;
    try {
      checkRequestLimits(method, call.request);
      answer = fn(call.request, call);
    } catch (err) {
      answer = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    answer.then(
      (response) => callback(null, response),
      (err: unknown) => {
        // Deliberate answers (ChurnErrors, UNKNOWN ones included: the core's containerd
        // compat mode gives them) are the client's business; surprises go to the log.
        if (!(err instanceof ChurnError) || err.code === 'INTERNAL') onError(method, err);
        callback(toGrpcStatus(err));
      },
    );
  };
}
