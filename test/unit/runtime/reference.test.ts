import { describe, expect, it } from 'vitest';
import {
  isImageIdLike,
  normalizeReference,
  repositoryOf,
} from '../../../src/runtime/images/reference.js';

describe('normalizeReference', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox:1', 'docker.io/library/busybox:1'],
    ['user/app', 'docker.io/user/app:latest'],
    ['quay.io/x/y', 'quay.io/x/y:latest'],
    ['localhost/app:dev', 'localhost/app:dev'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['registry.k8s.io/pause:3.6', 'registry.k8s.io/pause:3.6'],
    [`busybox@sha256:${'a'.repeat(64)}`, `docker.io/library/busybox@sha256:${'a'.repeat(64)}`],
    [`busybox:1@sha256:${'b'.repeat(64)}`, `docker.io/library/busybox:1@sha256:${'b'.repeat(64)}`],
  ])('%s → %s', (input, expected) => {
    expect(normalizeReference(input)).toBe(expected);
  });

  it.each(['', 'Busybox', 'busybox:', 'a b', 'busybox@sha256:short', ':tag', 'x//y'])(
    'refuses %j',
    (input) => {
      expect(() => normalizeReference(input)).toThrow(/image reference/);
    },
  );

  it('tells ids from names and finds the repository', () => {
    expect(isImageIdLike(`sha256:${'c'.repeat(64)}`)).toBe(true);
    expect(isImageIdLike('c'.repeat(64))).toBe(true);
    expect(isImageIdLike('busybox')).toBe(false);
    expect(repositoryOf('docker.io/library/busybox:1')).toBe('docker.io/library/busybox');
    expect(repositoryOf('localhost:5000/app:dev')).toBe('localhost:5000/app');
  });
});
