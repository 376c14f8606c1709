/** The OCI image-layout and image-spec documents the core reads, validated at the boundary. */
import { ChurnError } from '../../common/errors.js';

/** Media types the core understands. */
export const mediaTypes = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** Annotation naming an image in an index (containerd's, a full reference). */
export const containerdImageNameAnnotation = 'io.containerd.image.name';
/** Annotation naming an image in an index (OCI's). */
export const ociRefNameAnnotation = 'org.opencontainers.image.ref.name';

/** An OCI content descriptor. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations: Readonly<Record<string, string>>;
  readonly platform?: { readonly architecture: string; readonly os: string };
}

/** An image index (index.json or a nested index). */
export interface ImageIndex {
  readonly manifests: readonly Descriptor[];
}

/** An image manifest. */
export interface ImageManifest {
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

/** The parts of an image config the core uses. */
export interface ImageConfigDoc {
  readonly config: {
    readonly User: string;
    readonly Entrypoint: readonly string[];
    readonly Cmd: readonly string[];
    readonly Env: readonly string[];
    readonly WorkingDir: string;
  };
  readonly diffIds: readonly string[];
}

const digestPattern = /^sha256:[a-f0-9]{64}$/;

function bad(where: string, why: string): ChurnError {
  return new ChurnError('INVALID_ARGUMENT', `${where}: ${why}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringArray(v: unknown, where: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw bad(where, 'must be an array of strings');
  }
  return v;
}

/** Parses JSON text of a document, INVALID_ARGUMENT when it is not a JSON object. */
export function parseJsonObject(text: string, where: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw bad(where, `not JSON (${(err as Error).message})`);
  }
  if (!isRecord(value)) throw bad(where, 'not a JSON object');
  return value;
}

/** Validates a descriptor. */
export function parseDescriptor(v: unknown, where: string): Descriptor {
  if (!isRecord(v)) throw bad(where, 'not a descriptor');
  const { mediaType, digest, size, annotations, platform } = v;
  if (typeof mediaType !== 'string') throw bad(where, 'mediaType missing');
  if (typeof digest !== 'string' || !digestPattern.test(digest)) {
    throw bad(where, `digest ${JSON.stringify(digest)} is not a sha256 digest`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw bad(where, 'size must be a non-negative integer');
  }
  const ann: Record<string, string> = {};
  if (isRecord(annotations)) {
    for (const [k, val] of Object.entries(annotations)) if (typeof val === 'string') ann[k] = val;
  }
  const plat =
    isRecord(platform) &&
    typeof platform.architecture === 'string' &&
    typeof platform.os === 'string'
      ? { architecture: platform.architecture, os: platform.os }
      : undefined;
  return { mediaType, digest, size, annotations: ann, ...(plat ? { platform: plat } : {}) };
}

/** Validates index.json's `imageLayoutVersion` file (oci-layout). */
export function checkOciLayout(text: string): void {
  const doc = parseJsonObject(text, 'oci-layout');
  if (doc.imageLayoutVersion !== '1.0.0') {
    throw bad(
      'oci-layout',
      `imageLayoutVersion ${JSON.stringify(doc.imageLayoutVersion)} is not 1.0.0`,
    );
  }
}

/** Validates an image index. */
export function parseIndex(text: string, where: string): ImageIndex {
  const doc = parseJsonObject(text, where);
  if (doc.schemaVersion !== 2) throw bad(where, 'schemaVersion must be 2');
  if (!Array.isArray(doc.manifests)) throw bad(where, 'manifests must be an array');
  return {
    manifests: doc.manifests.map((m, i) => parseDescriptor(m, `${where} manifests[${i}]`)),
  };
}

/** Validates an image manifest. */
export function parseManifest(text: string, where: string): ImageManifest {
  const doc = parseJsonObject(text, where);
  if (doc.schemaVersion !== 2) throw bad(where, 'schemaVersion must be 2');
  if (!Array.isArray(doc.layers)) throw bad(where, 'layers must be an array');
  return {
    config: parseDescriptor(doc.config, `${where} config`),
    layers: doc.layers.map((l, i) => parseDescriptor(l, `${where} layers[${i}]`)),
  };
}

/** Validates an image config. */
export function parseImageConfig(text: string, where: string): ImageConfigDoc {
  const doc = parseJsonObject(text, where);
  const config = isRecord(doc.config) ? doc.config : {};
  const rootfs = isRecord(doc.rootfs) ? doc.rootfs : {};
  const diffIds = stringArray(rootfs.diff_ids, `${where} rootfs.diff_ids`);
  for (const d of diffIds)
    if (!digestPattern.test(d)) throw bad(where, `diff id ${d} is not a sha256 digest`);
  return {
    config: {
      User: typeof config.User === 'string' ? config.User : '',
      Entrypoint: stringArray(config.Entrypoint, `${where} config.Entrypoint`),
      Cmd: stringArray(config.Cmd, `${where} config.Cmd`),
      Env: stringArray(config.Env, `${where} config.Env`),
      WorkingDir: typeof config.WorkingDir === 'string' ? config.WorkingDir : '',
    },
    diffIds,
  };
}

/** True for index media types (OCI index, docker manifest list). */
export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === mediaTypes.ociIndex || mediaType === mediaTypes.dockerManifestList;
}

/** True for manifest media types (OCI, docker v2). */
export function isManifestMediaType(mediaType: string): boolean {
  return mediaType === mediaTypes.ociManifest || mediaType === mediaTypes.dockerManifest;
}
