// Copies the non-TypeScript files the built CLI reads at run time into dist/.
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'dist/cri/proto'), { recursive: true });
cpSync(join(root, 'src/cri/proto'), join(root, 'dist/cri/proto'), { recursive: true });
