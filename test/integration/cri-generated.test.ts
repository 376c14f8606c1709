/** The committed src/cri/generated/ is what scripts/gen-proto.sh makes of src/cri/proto/. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('generated CRI types', () => {
  it('are up to date with the .proto (regenerating changes nothing)', async () => {
    const { stdout } = await promisify(execFile)('sh', ['scripts/gen-proto.sh', '--check'], {
      cwd: root,
    });
    expect(stdout).toContain('up to date');
  });
});
