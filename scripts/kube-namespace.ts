/**
 * A node's private mount namespace (scripts/kube.ts, scripts/kube-node.ts): held by a bind
 * mount of its nsfs file, with /var/log and /var/lib of the node's own (the kubelet writes to
 * fixed paths there), the kernel tunables the kubelet insists on read as the values it wants
 * from files (it would write them to the host otherwise), and any extra bind mounts the node
 * wants (its runtime at a path every node shares). Nothing of it is visible on the host.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { killAndWait } from './private-daemon.js';

const run = promisify(execFile);

/**
 * Kernel tunables the kubelet sets unless they already have these values (its
 * setupKernelTunables); they read so in the node's mount namespace only.
 */
const kubeletTunables: Readonly<Record<string, string>> = {
  'vm/overcommit_memory': '1',
  'vm/panic_on_oom': '0',
  'kernel/panic': '10',
  'kernel/panic_on_oops': '1',
  'kernel/keys/root_maxkeys': '1000000',
  'kernel/keys/root_maxbytes': '25000000',
};

/** What a node's mount namespace is made of. */
export interface NamespaceSpec {
  /** The nsfs bind mount that holds the namespace. */
  readonly nsFile: string;
  /** Bound over /var/log. */
  readonly varlog: string;
  /** The upper and work dirs of the overlay over /var/lib. */
  readonly varlib: string;
  /** Where the tunables' files are written. */
  readonly sysctl: string;
  /** Further bind mounts in the namespace: source directory → target directory. */
  readonly binds: readonly (readonly [source: string, target: string])[];
}

/** `nsenter` into the namespace: what every daemon of the node is started under. */
export const launcher = (ns: NamespaceSpec): string[] => ['nsenter', `--mount=${ns.nsFile}`, '--'];

async function mountTargets(): Promise<string[]> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  return mountinfo.split('\n').map((line) => line.split(' ')[4] ?? '');
}

/** Whether the nsfs file holds a mount namespace. */
export async function namespaceHeld(ns: NamespaceSpec): Promise<boolean> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  return mountinfo
    .split('\n')
    .some((line) => line.split(' ')[4] === ns.nsFile && line.includes(' nsfs '));
}

/** Creates the namespace (see the module comment); a no-op when it is held already. */
export async function makeNamespace(ns: NamespaceSpec): Promise<void> {
  if (await namespaceHeld(ns)) return;
  const nsDir = dirname(ns.nsFile);
  await mkdir(nsDir, { recursive: true });
  await mkdir(join(ns.varlog, 'pods'), { recursive: true });
  await mkdir(join(ns.varlog, 'containers'), { recursive: true });
  // unshare --mount=FILE needs FILE on a private mount.
  await run('mount', ['--bind', nsDir, nsDir]);
  await run('mount', ['--make-private', nsDir]);
  await writeFile(ns.nsFile, '');
  await mkdir(join(ns.varlib, 'upper'), { recursive: true });
  await mkdir(join(ns.varlib, 'work'), { recursive: true });
  const binds: string[] = [
    `mount --bind '${ns.varlog}' /var/log`,
    // The kubelet's device-plugin socket dir is fixed (/var/lib/kubelet/device-plugins).
    `mount -t overlay overlay -o 'lowerdir=/var/lib,upperdir=${ns.varlib}/upper,workdir=${ns.varlib}/work' /var/lib`,
  ];
  await mkdir(ns.sysctl, { recursive: true });
  for (const [key, value] of Object.entries(kubeletTunables)) {
    const file = join(ns.sysctl, key.split('/').join('.'));
    await writeFile(file, `${value}\n`);
    binds.push(`mount --bind '${file}' /proc/sys/${key}`);
  }
  for (const [source, target] of ns.binds) {
    await mkdir(source, { recursive: true });
    await mkdir(target, { recursive: true });
    binds.push(`mount --bind '${source}' '${target}'`);
  }
  await run('unshare', [
    `--mount=${ns.nsFile}`,
    '--propagation',
    'private',
    'sh',
    '-ec',
    binds.join('\n'),
  ]);
}

/** Pids of every process in the namespace. */
async function namespaceProcesses(ns: NamespaceSpec): Promise<number[]> {
  if (!(await namespaceHeld(ns))) return [];
  const ino = (await stat(ns.nsFile)).ino;
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if ((await stat(`/proc/${name}/ns/mnt`)).ino === ino) pids.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** Kills what still runs in the namespace and releases it. Idempotent. */
export async function releaseNamespace(ns: NamespaceSpec): Promise<void> {
  for (const pid of await namespaceProcesses(ns)) await killAndWait(pid, 2000);
  if (await namespaceHeld(ns)) await run('umount', [ns.nsFile]).catch(() => undefined);
  const nsDir = dirname(ns.nsFile);
  if ((await mountTargets()).includes(nsDir)) {
    await run('umount', [nsDir]).catch(() => undefined);
  }
}
