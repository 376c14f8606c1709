import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import {
  ChurnError,
  harnessErrorCodes,
  runtimeErrorCodes,
  type ErrorCode,
} from '../../../src/common/errors.js';
import { churnCodeFor, fromGrpcError, grpcCodeFor } from '../../../src/cri/status.js';
import { toGrpcStatus } from '../../../src/cri/unary-handler.js';

/** A ServiceError as grpc-js hands it to a failed call's callback. */
function serviceError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${status[code] ?? '?'}: ${details}`), {
    code,
    details,
    metadata: new Metadata(),
  });
}

describe('status mapping', () => {
  it.each(runtimeErrorCodes)(
    'maps runtime code %s to the gRPC code of the same name and back',
    (code) => {
      const grpc = grpcCodeFor(code);
      expect(status[grpc]).toBe(code);
      expect(churnCodeFor(grpc)).toBe(code);
    },
  );

  it.each([
    ['USAGE', status.INVALID_ARGUMENT],
    ['SCENARIO_INVALID', status.INVALID_ARGUMENT],
    ['REPORT_INVALID', status.INVALID_ARGUMENT],
    ['ENDPOINT_INVALID', status.INVALID_ARGUMENT],
    ['NOT_COMPARABLE', status.FAILED_PRECONDITION],
    ['IO', status.INTERNAL],
    ['RUN_BROKEN', status.INTERNAL],
  ] as const)('folds harness code %s onto gRPC %s', (code, expected) => {
    expect(grpcCodeFor(code)).toBe(expected);
  });

  it('covers every harness code', () => {
    for (const code of harnessErrorCodes) expect(status[grpcCodeFor(code)]).toBeDefined();
  });

  it('never gives OK or an unknown number as a failure code', () => {
    expect(churnCodeFor(status.OK)).toBe('UNKNOWN');
    expect(churnCodeFor(99)).toBe('UNKNOWN');
    expect(churnCodeFor(-1)).toBe('UNKNOWN');
  });

  it('turns core errors into a status with the message as details', () => {
    const s = toGrpcStatus(
      new ChurnError('FAILED_PRECONDITION', 'container "c1": cannot start from state EXITED'),
    );
    expect(s.code).toBe(status.FAILED_PRECONDITION);
    expect(s.details).toBe('container "c1": cannot start from state EXITED');
  });

  it('answers UNKNOWN for errors that are not ChurnErrors, CANCELLED for aborts', () => {
    expect(toGrpcStatus(new TypeError('boom')).code).toBe(status.UNKNOWN);
    expect(toGrpcStatus('a string').code).toBe(status.UNKNOWN);
    const abort = new Error('aborted');
    abort.name = 'AbortError';
    expect(toGrpcStatus(abort).code).toBe(status.CANCELLED);
  });

  it('turns a gRPC failure into a ChurnError named by the status code, with context', () => {
    const err = fromGrpcError(
      serviceError(status.NOT_FOUND, 'container "x" not found'),
      'CRI StartContainer "x"',
    );
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe('CRI StartContainer "x": container "x" not found');
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('names the code when the status has no details', () => {
    expect(fromGrpcError(serviceError(status.UNAVAILABLE, ''), 'CRI Version').message).toBe(
      'CRI Version: UNAVAILABLE',
    );
  });

  it('round-trips every runtime code through server status and client error', () => {
    for (const code of runtimeErrorCodes) {
      const s = toGrpcStatus(new ChurnError(code, 'why'));
      const back = fromGrpcError(serviceError(s.code!, s.details!), 'ctx');
      expect(back.code satisfies ErrorCode).toBe(code);
    }
  });

  it('treats non-gRPC errors on the client side as UNKNOWN', () => {
    expect(fromGrpcError(new Error('socket hang up'), 'CRI Version').code).toBe('UNKNOWN');
  });
});
