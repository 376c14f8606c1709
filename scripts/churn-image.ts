/**
 * Builds an OCI image-layout archive of churn from this machine's Node and the repository's
 * `dist/`, the equivalent of the Dockerfile for places with no registry (the e2e tests, the
 * private cluster of scripts/kube.sh), and imports it into a containerd.
 *
 *   npx tsx scripts/churn-image.ts [--out FILE] [--ref REF]... [--import SOCKET] [--namespace NS]
 *
 * Layers: busybox (a shell and coreutils for the pod's wrapper and `kubectl exec`), then Node
 * (the binary and the shared libraries `ldd` names, at their paths) with churn under /app:
 * package.json, dist/, scenarios/ and the production dependencies (`npm ls --omit=dev`).
 * Entrypoint /usr/local/bin/churn; user 1000 (`churn`), as the Dockerfile's `node` user: a
 * pod that talks to a root-owned CRI socket says runAsUser: 0 itself. `dist/` must be built
 * (`npm run build`).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import {
  buildOciArchive,
  busyboxLayer,
  entriesOfDir,
  type BuiltArchive,
  type LayerEntry,
} from './oci-image.js';
import { importArchive } from './containerd.js';
import { runIfScript } from './run-if-script.js';

const run = promisify(execFile);
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The reference the tests and overlays/test use. */
export const churnImageRef = 'localhost/churn/churn:local';

/** uid and gid of the image's `churn` user. */
export const churnUid = 1000;

const wrapper = '#!/bin/sh\nexec /usr/local/bin/node /app/dist/cli/main.js "$@"\n';

/** The Node binary and the shared libraries it loads, at their paths. */
async function nodeEntries(nodePath: string): Promise<LayerEntry[]> {
  const real = await realpath(nodePath);
  const { stdout } = await run('ldd', [real]);
  const libs = stdout
    .split('\n')
    .map((line) => /(\/\S+) \(0x/.exec(line)?.[1])
    .filter((path): path is string => path !== undefined);
  const entries: LayerEntry[] = [
    { path: 'usr/local/bin/node', type: 'file', content: await readFile(real), mode: 0o755 },
  ];
  const dirs = new Set<string>();
  for (const lib of libs) {
    const inImage = lib.slice(1);
    for (let d = dirname(inImage); d !== '.'; d = dirname(d)) dirs.add(d);
    entries.push({ path: inImage, type: 'file', content: await readFile(lib), mode: 0o755 });
  }
  return [...[...dirs].sort().map((path): LayerEntry => ({ path, type: 'dir' })), ...entries];
}

/** churn under /app: package.json, dist, scenarios and the production dependencies. */
async function appEntries(): Promise<LayerEntry[]> {
  if (!existsSync(join(repoRoot, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/cli/main.js is missing: run `npm run build` first');
  }
  const entries: LayerEntry[] = [
    { path: 'app', type: 'dir' },
    { path: 'app/node_modules', type: 'dir' },
    {
      path: 'app/package.json',
      type: 'file',
      content: await readFile(join(repoRoot, 'package.json')),
    },
    ...(await entriesOfDir(join(repoRoot, 'dist'), { prefix: 'app/dist' })),
    ...(await entriesOfDir(join(repoRoot, 'scenarios'), { prefix: 'app/scenarios' })),
  ];
  // Where node_modules really lives: the repository in a clone, the checkout the link points
  // at in a git worktree whose node_modules is a symbolic link (npm ls reads the tree there).
  const installRoot = dirname(await realpath(join(repoRoot, 'node_modules')));
  const { stdout } = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: installRoot,
    maxBuffer: 16 << 20,
  });
  const packages = [
    ...new Set(stdout.split('\n').filter((p) => p.includes('/node_modules/'))),
  ].sort();
  const made = new Set<string>();
  for (const dir of packages) {
    const inApp = `app/${relative(installRoot, dir).split('\\').join('/')}`;
    // Parent dirs (scopes, nested node_modules) before the package itself.
    const parents: string[] = [];
    for (let d = dirname(inApp); d !== 'app' && !made.has(d); d = dirname(d)) parents.unshift(d);
    for (const d of parents) {
      made.add(d);
      entries.push({ path: d, type: 'dir' });
    }
    made.add(inApp);
    entries.push({ path: inApp, type: 'dir' });
    // Nested dependencies are packages of their own in the list.
    entries.push(
      ...(await entriesOfDir(dir, {
        prefix: inApp,
        skip: (rel) => rel === 'node_modules' || rel.startsWith('node_modules/'),
      })),
    );
  }
  return entries;
}

/** Options of {@link buildChurnImage}. */
export interface ChurnImageOptions {
  readonly out: string;
  readonly refs?: readonly string[];
  /** Node binary to ship; default the one running this script. */
  readonly nodePath?: string;
}

/** Builds the archive; see the module comment. */
export async function buildChurnImage(options: ChurnImageOptions): Promise<BuiltArchive> {
  const etc: LayerEntry[] = [
    {
      path: 'etc/passwd',
      type: 'file',
      content: `root:x:0:0:root:/root:/bin/sh\nchurn:x:${churnUid}:${churnUid}:churn:/home/churn:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n`,
    },
    {
      path: 'etc/group',
      type: 'file',
      content: `root:x:0:\nchurn:x:${churnUid}:\nnogroup:x:65534:\n`,
    },
    { path: 'home', type: 'dir' },
    // Layer entries are root's: sticky and world-writable, so user churn can write reports here.
    { path: 'home/churn', type: 'dir', mode: 0o1777 },
    { path: 'usr/local', type: 'dir' },
    { path: 'usr/local/bin', type: 'dir' },
    { path: 'usr/local/bin/churn', type: 'file', content: wrapper, mode: 0o755 },
  ];
  return buildOciArchive({
    layers: [
      await busyboxLayer(),
      {
        entries: [
          ...etc,
          ...(await nodeEntries(options.nodePath ?? process.execPath)),
          ...(await appEntries()),
        ],
      },
    ],
    config: {
      entrypoint: ['/usr/local/bin/churn'],
      cmd: ['--help'],
      env: [
        'PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
        'NODE_ENV=production',
        'HOME=/home/churn',
      ],
      workingDir: '/home/churn',
      user: `${churnUid}:${churnUid}`,
    },
    refs: options.refs ?? [churnImageRef],
    out: options.out,
  });
}

/** The CLI; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      out: { type: 'string', default: join(repoRoot, '.tmp', 'churn-image.tar') },
      ref: { type: 'string', multiple: true },
      import: { type: 'string' },
      namespace: { type: 'string', default: 'k8s.io' },
    },
    strict: true,
  });
  const built = await buildChurnImage({
    out: values.out,
    ...(values.ref ? { refs: values.ref } : {}),
  });
  process.stdout.write(`${built.out} ${built.imageId} ${built.refs.join(' ')}\n`);
  if (values.import !== undefined) {
    await importArchive(built.out, values.namespace, values.import);
    process.stderr.write(
      `churn-image.ts: imported into ${values.import} (namespace ${values.namespace})\n`,
    );
  }
  return 0;
}

runIfScript(import.meta.url, 'churn-image.ts', main);
