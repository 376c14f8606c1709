/**
 * The `runtime.v1` package as grpc-js makes it of the CRI package definition (proto-loader.ts):
 * message types and the two service definitions, typed by the generated ProtoGrpcType. The
 * server registers its services with these; the client needs only the definition.
 */
import { loadPackageDefinition } from '@grpc/grpc-js';
import type { ProtoGrpcType } from './generated/api.js';
import { criDefinition } from './proto-loader.js';

let cached: ProtoGrpcType['runtime']['v1'] | undefined;

/** The `runtime.v1` package: message types and the two service constructors. Loaded once. */
export function criPackage(): ProtoGrpcType['runtime']['v1'] {
  cached ??= (loadPackageDefinition(criDefinition()) as unknown as ProtoGrpcType).runtime.v1;
  return cached;
}
