/**
 * The accounts (/etc/passwd, /etc/group) of the images containers are created from, read once
 * per image rather than at every CreateContainer: reading them costs two symlink-safe path
 * resolutions and two file reads, about a third of a millisecond per create on this project's
 * machines, which is a fifth of the core's whole cycle (docs/performance.md).
 *
 * An image of the store is content-addressed (its id is its config's digest, and its rootfs is
 * unpacked once from its layers): its accounts cannot change while its id stays, so they are
 * kept by id (a removed image's entry is harmless: the same id is the same files). The host image's rootfs is the host's `/`, whose files change (useradd); its
 * accounts are kept only while both files keep their inode, size and times, checked with two
 * stat calls.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { readImageAccounts, type ImageAccounts } from './executors/oci-identity.js';

/** How many store images' accounts are kept; the oldest go first. */
const maxCachedImages = 256;

/** What identifies one version of a host file: '' when it is absent. */
function versionOf(path: string): string {
  const st = statSync(path, { bigint: true, throwIfNoEntry: false });
  if (st === undefined) return '';
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** The image a container is created from, as far as its accounts go. */
export interface AccountsImage {
  readonly id: string;
  /** Host path of its rootfs; '/' for the host image. */
  readonly rootfs: string;
}

/** See the module comment. */
export class ImageAccountsCache {
  readonly #hostRoot: string;
  readonly #byImage = new Map<string, ImageAccounts>();
  #host: { readonly version: string; readonly accounts: ImageAccounts } | undefined;

  /** `hostRoot`: the rootfs whose files may change, the host image's ('/'; another in tests). */
  constructor(hostRoot = '/') {
    this.#hostRoot = hostRoot;
  }

  /** The accounts of `image`, read from its rootfs when not known. */
  async get(image: AccountsImage): Promise<ImageAccounts> {
    if (image.rootfs === this.#hostRoot) return this.#hostAccounts();
    const known = this.#byImage.get(image.id);
    if (known !== undefined) return known;
    const accounts = await readImageAccounts(image.rootfs);
    if (this.#byImage.size >= maxCachedImages) {
      const oldest = this.#byImage.keys().next().value;
      if (oldest !== undefined) this.#byImage.delete(oldest);
    }
    this.#byImage.set(image.id, accounts);
    return accounts;
  }

  async #hostAccounts(): Promise<ImageAccounts> {
    const root = this.#hostRoot;
    const version = `${versionOf(join(root, 'etc/passwd'))}|${versionOf(join(root, 'etc/group'))}`;
    if (this.#host?.version === version) return this.#host.accounts;
    const accounts = await readImageAccounts(root);
    // Kept under the version seen before the read: a change during the read is read next time.
    this.#host = { version, accounts };
    return accounts;
  }
}
