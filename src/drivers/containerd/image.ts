/**
 * Resolves an image from containerd's image store, as containerd-stress (local change 1) does:
 * the image must already be imported and unpacked in the namespace; nothing is ever pulled.
 * Reads the image's manifest (the host platform's from an index) and config from the content
 * store, and derives the chain id of its unpacked layers: the parent of each container's
 * snapshot.
 */
import { createHash } from 'node:crypto';
import { ChurnError, isChurnError } from '../../common/errors.js';
import type { ContainerdCallOptions, ContainerdClient } from './client.js';

/** An image, resolved. */
export interface ResolvedImage {
  readonly name: string;
  /** Digest of the image's target (manifest or index). */
  readonly id: string;
  /** Chain id of the unpacked layers: the committed snapshot a container's snapshot is prepared from. */
  readonly chainId: string;
  /** The image config's Env (KEY=VALUE). */
  readonly env: readonly string[];
  readonly workingDir: string;
  /** Entrypoint + Cmd of the image config. */
  readonly defaultArgs: readonly string[];
}

/**
 * The OCI chain id of `diffIds`: chain(0) = diff(0); chain(n) = sha256(chain(n-1) + " " + diff(n)).
 * Throws INVALID_ARGUMENT for an empty list.
 */
export function chainIdOf(diffIds: readonly string[]): string {
  const [first, ...rest] = diffIds;
  if (first === undefined) throw new ChurnError('INVALID_ARGUMENT', 'image has no layers');
  return rest.reduce(
    (chain, diff) => `sha256:${createHash('sha256').update(`${chain} ${diff}`).digest('hex')}`,
    first,
  );
}

const goArch: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', arm: 'arm' };

interface Descriptor {
  readonly mediaType?: string;
  readonly digest: string;
  readonly platform?: { readonly os?: string; readonly architecture?: string };
}

async function readJson(
  client: ContainerdClient,
  digest: string,
  options: ContainerdCallOptions | undefined,
): Promise<Record<string, unknown>> {
  const chunks = await client.stream<{ data: Buffer }>('content', 'Read', { digest }, options);
  return JSON.parse(Buffer.concat(chunks.map((c) => c.data)).toString('utf8')) as Record<
    string,
    unknown
  >;
}

/**
 * Resolves `name` in the client's namespace. NOT_FOUND when the image is not in the store,
 * FAILED_PRECONDITION when it is not unpacked for `snapshotter`.
 */
export async function resolveImage(
  client: ContainerdClient,
  name: string,
  snapshotter: string,
  options?: ContainerdCallOptions,
): Promise<ResolvedImage> {
  let target: Descriptor;
  try {
    const got = await client.call<{ image: { target: Descriptor } | null }>(
      'images',
      'Get',
      { name },
      options,
    );
    if (got.image === null) throw new ChurnError('NOT_FOUND', 'no image in the response');
    target = got.image.target;
  } catch (err) {
    if (isChurnError(err, 'NOT_FOUND')) {
      throw new ChurnError(
        'NOT_FOUND',
        `image "${name}" is not in containerd namespace "${client.namespace}": the containerd driver never pulls; import it first (ctr -n ${client.namespace} images import FILE, or scripts/containerd.sh import-native)`,
        { cause: err },
      );
    }
    throw err;
  }
  let manifest = await readJson(client, target.digest, options);
  if (Array.isArray(manifest['manifests'])) {
    const arch = goArch[process.arch] ?? process.arch;
    const entries = manifest['manifests'] as Descriptor[];
    const chosen =
      entries.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch) ??
      entries.find((m) => m.platform === undefined);
    if (chosen === undefined) {
      throw new ChurnError(
        'NOT_FOUND',
        `image "${name}" has no manifest for linux/${arch} in containerd namespace "${client.namespace}"`,
      );
    }
    manifest = await readJson(client, chosen.digest, options);
  }
  const configDescriptor = manifest['config'] as Descriptor | undefined;
  if (configDescriptor === undefined) {
    throw new ChurnError('INVALID_ARGUMENT', `image "${name}": manifest has no config`);
  }
  const config = await readJson(client, configDescriptor.digest, options);
  const rootfs = config['rootfs'] as { diff_ids?: string[] } | undefined;
  const chainId = chainIdOf(rootfs?.diff_ids ?? []);
  try {
    await client.call('snapshots', 'Stat', { snapshotter, key: chainId }, options);
  } catch (err) {
    if (isChurnError(err, 'NOT_FOUND')) {
      throw new ChurnError(
        'FAILED_PRECONDITION',
        `image "${name}" is not unpacked for snapshotter ${snapshotter} in containerd namespace "${client.namespace}" (no snapshot ${chainId}): import it with --snapshotter ${snapshotter}`,
        { cause: err },
      );
    }
    throw err;
  }
  const inner = (config['config'] ?? {}) as {
    Env?: string[] | null;
    WorkingDir?: string;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
  };
  return {
    name,
    id: target.digest,
    chainId,
    env: inner.Env ?? [],
    workingDir: inner.WorkingDir ?? '',
    defaultArgs: [...(inner.Entrypoint ?? []), ...(inner.Cmd ?? [])],
  };
}
