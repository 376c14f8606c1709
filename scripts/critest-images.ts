/**
 * The images the stock `critest` (cri-tools v1.26.1) pulls, built locally as OCI archives by
 * scripts/oci-image.ts from Debian's busybox-static: no registry is reachable here, and none is
 * needed. Each image is busybox plus a small second layer (/etc/passwd and /etc/group with
 * www-data (33) and uid 1000 in group 50000 `group-defined-in-image`, /var/www, /var/run, and
 * a file naming the image, so every image has its own id), one reference each, except
 * `test-image-tags:{1,2,3}`, which are one image under three tags (critest checks they share
 * an id). Stand-ins (see ../shared/tools/cri-tools/README.md): nginx writes /var/run/nginx.pid
 * and shows `nginx: master process` in its command line, httpd is busybox httpd serving
 * /var/www. `test-image-digest@sha256:9700f…` cannot be built (its digest is fixed).
 *
 * Library: `critestImages()` (the list), `buildCritestImages(dir)` (one .tar per image).
 * CLI:     npx tsx scripts/critest-images.ts --out DIR
 *          (then `churn serve --images DIR`, or tests/support/oci-registry.ts serves them)
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildOciArchive,
  busyboxLayer,
  pauseScript,
  type BuiltArchive,
  type ImageConfigInput,
  type LayerEntry,
  type LayerSource,
} from './oci-image.js';
import { runIfScript } from './run-if-script.js';

/** One image critest pulls: its references and config. */
export interface CritestImage {
  /** Archive file name (without .tar). */
  readonly name: string;
  readonly refs: readonly string[];
  readonly config: ImageConfigInput;
}

const staging = 'gcr.io/k8s-staging-cri-tools';

/**
 * The nginx stand-in, a script at /usr/sbin/nginx: the kernel names a script's process after
 * the script, so `pidof nginx` finds it; it records its pid like nginx, and its command line
 * (`/bin/sh /usr/sbin/nginx nginx: master process …`) names nginx's master like nginx's does.
 */
const nginxScript = `#!/bin/sh
mkdir -p /var/run && echo $$ > /var/run/nginx.pid
${pauseScript}
`;

/**
 * The httpd stand-in, run by the image's busybox sh from /var/www: logs the lines Apache logs
 * at start (critest looks for the command line), then execs busybox's httpd applet serving the
 * working directory. Busybox runs its applets itself, and the working directory is resolved in
 * the image, so this works on the process executor too, which has no chroot.
 */
const httpdScript = [
  'echo "[mpm_event:notice] AH00489: Apache/2.4.39 (Unix) configured -- resuming normal operations" >&2',
  `echo "[core:notice] AH00094: Command line: 'httpd -D FOREGROUND'" >&2`,
  'exec httpd -f -p 80 -h .',
].join('\n');

/**
 * Stand-ins for two tools Debian's busybox has no applet for and critest runs in its images:
 * `pgrep NAME` (pids whose process name is NAME) and `ipcs -m` (the shared memory segments,
 * from /proc/sysvipc/shm: the ids are what critest looks for).
 */
const pgrepScript = `#!/bin/sh
found=1
for d in /proc/[0-9]*; do
  if [ "$(cat "$d/comm" 2>/dev/null)" = "$1" ]; then echo "\${d#/proc/}"; found=0; fi
done
exit $found
`;
const ipcsScript = `#!/bin/sh
[ "$1" = -m ] || { echo "ipcs (churn stand-in): only -m" >&2; exit 1; }
echo "------ Shared Memory Segments --------"
cat /proc/sysvipc/shm
`;

const passwd = [
  'root:x:0:0:root:/root:/bin/sh',
  'www-data:x:33:33:www-data:/var/www:/bin/false',
  'user1000:x:1000:1000:user1000:/home/user1000:/bin/sh',
  'nobody:x:65534:65534:nobody:/:/bin/false',
  '',
].join('\n');

const group = [
  'root:x:0:',
  'www-data:x:33:',
  'user1000:x:1000:',
  'group-defined-in-image:x:50000:user1000',
  'nogroup:x:65534:',
  '',
].join('\n');

/** Every image critest pulls that can be built (see the module comment). */
export function critestImages(): readonly CritestImage[] {
  const sh = { cmd: ['sh'] };
  const busyboxes: CritestImage[] = [
    ['busybox-latest', 'docker.io/library/busybox:latest'],
    ['busybox-1.28', 'docker.io/library/busybox:1.28'],
    ['busybox-1.29-2', 'registry.k8s.io/e2e-test-images/busybox:1.29-2'],
    ...['1.35.0-glibc', '1-uclibc', '1', '1-glibc', '1-musl'].map(
      (tag) => [`ecr-busybox-${tag}`, `public.ecr.aws/docker/library/busybox:${tag}`] as const,
    ),
  ].map(([name, ref]) => ({ name: name, refs: [ref], config: sh }));
  const users: CritestImage[] = [
    ['test-image-user-uid', '1002'],
    ['test-image-user-username', 'www-data'],
    ['test-image-user-uid-group', '1003:1004'],
    ['test-image-user-username-group', 'www-data:1004'],
    ['test-image-predefined-group', '1000'],
  ].map(([name, user]) => ({
    name: name!,
    refs: [`${staging}/${name!}:latest`],
    config: { ...sh, user: user! },
  }));
  const distinct: CritestImage[] = [
    'test-image-1:latest',
    'test-image-2:latest',
    'test-image-3:latest',
    'test-image-latest:latest',
    'test-image-tag:test',
    'test-image-tag:all',
  ].map((ref) => ({ name: ref.replace(':', '-'), refs: [`${staging}/${ref}`], config: sh }));
  const nginx = { entrypoint: ['/usr/sbin/nginx', 'nginx: master process nginx -g daemon off;'] };
  const servers: CritestImage[] = [
    { name: 'nginx', refs: ['registry.k8s.io/e2e-test-images/nginx:1.14-2'], config: nginx },
    {
      name: 'hostnet-nginx',
      refs: [`${staging}/hostnet-nginx-amd64:latest`],
      config: nginx,
    },
    {
      name: 'httpd',
      refs: ['registry.k8s.io/e2e-test-images/httpd:2.4.39-4'],
      config: { cmd: ['sh', '-c', httpdScript], workingDir: '/var/www' },
    },
    { name: 'nonewprivs', refs: ['registry.k8s.io/e2e-test-images/nonewprivs:1.3'], config: sh },
  ];
  const tags: CritestImage = {
    name: 'test-image-tags',
    refs: [1, 2, 3].map((n) => `${staging}/test-image-tags:${n}`),
    config: sh,
  };
  return [...busyboxes, ...users, ...distinct, ...servers, tags];
}

/** The registry hosts of every reference of {@link critestImages} (for a loopback mirror). */
export function critestRegistries(): string[] {
  const hosts = critestImages().flatMap((i) => i.refs.map((r) => r.slice(0, r.indexOf('/'))));
  return [...new Set(hosts)].sort();
}

/** The second layer of `image`: accounts, web root, and a file that makes its id its own. */
function secondLayer(image: CritestImage): LayerSource {
  const entries: LayerEntry[] = [
    { path: 'etc/passwd', type: 'file', content: passwd },
    { path: 'etc/group', type: 'file', content: group },
    { path: 'home', type: 'dir' },
    { path: 'home/user1000', type: 'dir' },
    { path: 'var/run', type: 'dir' },
    { path: 'var/www', type: 'dir' },
    { path: 'var/www/index.html', type: 'file', content: `${image.name}\n` },
    { path: 'etc/churn-critest-image', type: 'file', content: `${image.refs.join('\n')}\n` },
    { path: 'usr/sbin/nginx', type: 'file', content: nginxScript, mode: 0o755 },
    { path: 'usr/bin/pgrep', type: 'file', content: pgrepScript, mode: 0o755 },
    { path: 'usr/bin/ipcs', type: 'file', content: ipcsScript, mode: 0o755 },
  ];
  return { entries };
}

/** Builds every image of {@link critestImages} into `dir` (one `<name>.tar` each). */
export async function buildCritestImages(dir: string): Promise<BuiltArchive[]> {
  await mkdir(dir, { recursive: true });
  const base = await busyboxLayer();
  const built: BuiltArchive[] = [];
  for (const image of critestImages()) {
    built.push(
      await buildOciArchive({
        layers: [base, secondLayer(image)],
        config: image.config,
        refs: image.refs,
        out: join(dir, `${image.name}.tar`),
      }),
    );
  }
  return built;
}

/** The CLI; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: { out: { type: 'string' } },
    strict: true,
  });
  if (values.out === undefined) {
    process.stderr.write('usage: critest-images.ts --out DIR\n');
    return 2;
  }
  for (const b of await buildCritestImages(values.out)) {
    process.stdout.write(`${b.out} ${b.imageId} ${b.refs.join(' ')}\n`);
  }
  return 0;
}

runIfScript(import.meta.url, 'critest-images', main);
