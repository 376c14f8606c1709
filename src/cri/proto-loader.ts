/**
 * Loads the CRI subset (proto/api.proto, copied next to the built code by the build) with
 * @grpc/proto-loader, typed by the generated ProtoGrpcType. The options here and those of
 * scripts/gen-proto.sh must agree, or the generated types would lie.
 */
import { loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { ChurnError } from '../common/errors.js';
import { codePath } from '../common/package-files.js';
import type { ProtoGrpcType } from './generated/api.js';

/**
 * proto-loader options: camelCase fields; int64 as decimal strings (converted to bigint at the
 * edges, so nanosecond timestamps keep every digit); enums as their names; defaults filled in
 * so absent scalars read as '', 0 or false and absent messages as null.
 */
export const criLoaderOptions: Readonly<Options> = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** Absolute path of the CRI .proto this module loads. */
export const criProtoPath = codePath('cri/proto/api.proto');

let cached: ProtoGrpcType['runtime']['v1'] | undefined;

/** The `runtime.v1` package: message types and the two service constructors. Loaded once. */
export function criPackage(): ProtoGrpcType['runtime']['v1'] {
  if (cached === undefined) {
    try {
      const definition = loadSync(criProtoPath, { ...criLoaderOptions });
      const loaded = loadPackageDefinition(definition) as unknown as ProtoGrpcType;
      cached = loaded.runtime.v1;
    } catch (err) {
      throw new ChurnError('INTERNAL', `cannot load the CRI protocol from ${criProtoPath}`, {
        cause: err,
      });
    }
  }
  return cached;
}
