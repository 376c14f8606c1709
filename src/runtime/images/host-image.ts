/** The built-in `host` image: its rootfs is the host's `/`, so a scenario needs no archive. */
import { createHash } from 'node:crypto';
import { defaultPath } from '../executors/command-path.js';
import type { Image } from '../types.js';

/** The host image's normalised tag: what the name `host` users give it normalises to. */
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
    env: [`PATH=${defaultPath}`],
    workingDir: '/',
  },
  builtin: true,
};
