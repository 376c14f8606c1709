/**
 * The gRPC status codes by name, as the gRPC spec numbers them: what the client side (the CRI
 * client, grpc-h2.ts, status.ts) needs of grpc-js's `status` enum, without loading grpc-js, so
 * a run that only calls a runtime does not pay for the server library (~45 ms of CPU to load).
 */
export const grpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** A status code's name. */
export type GrpcCodeName = keyof typeof grpcCode;

const names: readonly GrpcCodeName[] = Object.keys(grpcCode) as GrpcCodeName[];

/** The name of status `code`, or undefined for a number outside gRPC's range. */
export function grpcCodeName(code: number): GrpcCodeName | undefined {
  return Number.isInteger(code) ? names[code] : undefined;
}
