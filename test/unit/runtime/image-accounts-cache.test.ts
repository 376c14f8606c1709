import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ImageAccountsCache } from '../../../src/runtime/image-accounts-cache.js';
import { tempDir } from '../../support/core-fixtures.js';

async function rootfsWith(passwd: string, group?: string): Promise<string> {
  const root = await tempDir('churn-accounts-');
  await mkdir(join(root, 'etc'));
  await writeFile(join(root, 'etc/passwd'), passwd);
  if (group !== undefined) await writeFile(join(root, 'etc/group'), group);
  return root;
}

describe('ImageAccountsCache', () => {
  it("reads a store image's accounts once: the same id is the same files", async () => {
    const root = await rootfsWith('root:x:0:0::/root:/bin/sh\n', 'root:x:0:\n');
    const cache = new ImageAccountsCache();
    const first = await cache.get({ id: 'sha256:a', rootfs: root });
    expect(first).toEqual({ passwd: 'root:x:0:0::/root:/bin/sh\n', group: 'root:x:0:\n' });
    await writeFile(join(root, 'etc/passwd'), 'changed:x:5:5::/:/bin/sh\n');
    expect(await cache.get({ id: 'sha256:a', rootfs: root })).toBe(first);
    // Another image (another id) is read from its own files.
    expect((await cache.get({ id: 'sha256:b', rootfs: root })).passwd).toBe(
      'changed:x:5:5::/:/bin/sh\n',
    );
  });

  it("re-reads the host's accounts when a file changes, appears or goes", async () => {
    const host = await rootfsWith('root:x:0:0::/root:/bin/sh\n');
    const cache = new ImageAccountsCache(host);
    const image = { id: 'sha256:host', rootfs: host };
    const first = await cache.get(image);
    expect(first).toEqual({ passwd: 'root:x:0:0::/root:/bin/sh\n', group: undefined });
    expect(await cache.get(image)).toBe(first);

    await writeFile(
      join(host, 'etc/passwd'),
      'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/:/bin/sh\n',
    );
    expect((await cache.get(image)).passwd).toContain('alice');
    await writeFile(join(host, 'etc/group'), 'staff:x:50:alice\n');
    expect((await cache.get(image)).group).toBe('staff:x:50:alice\n');
    await rm(join(host, 'etc/group'));
    expect((await cache.get(image)).group).toBeUndefined();
  });
});
