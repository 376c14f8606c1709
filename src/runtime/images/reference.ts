/**
 * Image references normalised as docker and containerd do: `busybox` is
 * `docker.io/library/busybox:latest`, `quay.io/x/y` is `quay.io/x/y:latest`, a digest stays.
 */
import { ChurnError } from '../../common/errors.js';

const defaultDomain = 'docker.io';
const officialRepoPrefix = 'library/';
const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const domainPattern = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9-]+)*(?::\d+)?$/;

/** True when `ref` names an image by id or digest rather than by name (`sha256:…`, 64 hex). */
export function isImageIdLike(ref: string): boolean {
  return /^sha256:[a-f0-9]{64}$/.test(ref) || /^[a-f0-9]{64}$/.test(ref);
}

/**
 * The normalised form of `ref` (`domain/path:tag`, `domain/path@digest` or both). Throws
 * INVALID_ARGUMENT when `ref` is not a valid reference.
 */
export function normalizeReference(ref: string): string {
  const invalid = (why: string): ChurnError =>
    new ChurnError('INVALID_ARGUMENT', `image reference "${ref}": ${why}`);
  if (ref === '' || ref.length > 4096) throw invalid('must be 1–4096 characters');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestPattern.test(digest)) throw invalid(`"${digest}" is not a digest`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) throw invalid(`"${tag}" is not a tag`);
  }
  let domain = defaultDomain;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (
      first.includes('.') ||
      first.includes(':') ||
      first === 'localhost' ||
      first !== first.toLowerCase()
    ) {
      if (!domainPattern.test(first)) throw invalid(`"${first}" is not a registry domain`);
      domain = first === 'index.docker.io' ? defaultDomain : first;
      path = rest.slice(slash + 1);
    }
  }
  if (path === '') throw invalid('has no repository name');
  for (const component of path.split('/')) {
    if (!pathComponent.test(component)) {
      throw invalid(
        `"${component}" is not a repository name component (lowercase a-z, 0-9, . _ -)`,
      );
    }
  }
  if (domain === defaultDomain && !path.includes('/')) path = officialRepoPrefix + path;
  if (tag === undefined && digest === undefined) tag = 'latest';
  return `${domain}/${path}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
}

/** The repository part (`domain/path`) of a normalised reference. */
export function repositoryOf(normalized: string): string {
  const at = normalized.indexOf('@');
  const noDigest = at >= 0 ? normalized.slice(0, at) : normalized;
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
}

/** `normalizeReference(ref)`, or undefined when `ref` is not a valid reference. */
export function tryNormalizeReference(ref: string): string | undefined {
  try {
    return normalizeReference(ref);
  } catch {
    return undefined;
  }
}
