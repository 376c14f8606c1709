/**
 * Loads the CRI subset (proto/api.proto, copied next to the built code by the build) with
 * @grpc/proto-loader: its package definition, which is all the client needs (each method's
 * path and serializers), without grpc-js. The typed package grpc-js makes of it, for the
 * server, is proto-package.ts. The options here and those of scripts/gen-proto.sh must agree,
 * or the generated types would lie.
 */
import { loadSync, type PackageDefinition, type Options } from '@grpc/proto-loader';
import { ChurnError } from '../common/errors.js';
import { codePath } from '../common/package-files.js';

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

let cached: PackageDefinition | undefined;

/** The package definition of proto/api.proto (`runtime.v1.RuntimeService`, …). Loaded once. */
export function criDefinition(): PackageDefinition {
  if (cached === undefined) {
    try {
      cached = loadSync(criProtoPath, { ...criLoaderOptions });
    } catch (err) {
      throw new ChurnError('INTERNAL', `cannot load the CRI protocol from ${criProtoPath}`, {
        cause: err,
      });
    }
  }
  return cached;
}
