// Copies the non-TypeScript files the built CLI reads at run time (the CRI .proto) into dist/.
import { cpSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const protoDir = join(root, 'src/cri/proto');
if (existsSync(protoDir)) {
  cpSync(protoDir, join(root, 'dist/cri/proto'), { recursive: true });
}
// containerd's own API protos, read by the containerd driver.
const containerdProtoDir = join(root, 'src/drivers/containerd/proto');
if (existsSync(containerdProtoDir)) {
  cpSync(containerdProtoDir, join(root, 'dist/drivers/containerd/proto'), { recursive: true });
}
