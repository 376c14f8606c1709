/** The built-in `host` image: its rootfs is the host's `/`, so a scenario needs no archive. */
import { createHash } from 'node:crypto';
import type { Image } from '../types.js';

/** The name users give the host image; it normalises to {@link hostImageTag}. */
export const hostImageName = 'host';
/** The host image's normalised tag. */
export const hostImageTag = 'docker.io/library/host:latest';
/** The host image's id: a digest of a fixed text, stable across cores and releases. */
export const hostImageId = `sha256:${createHash('sha256').update('churn built-in host image v1').digest('hex')}`;

/** The host image. */
export const hostImage: Image = {
  id: hostImageId,
  repoTags: [hostImageTag],
  repoDigests: [],
  sizeBytes: 0,
  spec: {
    user: '',
    entrypoint: [],
    cmd: ['/bin/sh'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    workingDir: '/',
  },
  builtin: true,
};
