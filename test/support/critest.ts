/**
 * The stock critest and crictl v1.26.1, decompressed by cri-tools.ts (critest needs root), and a
 * runner for critest that reads its ginkgo JSON report.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decompressCriTools } from './cri-tools.js';
import { parseGinkgoReport, type SpecResult } from './critest-report.js';

const run = promisify(execFile);

/** The skip expression of issue 11: what critest runs here (62 of 85 specs). */
export const critestSkip =
  'AppArmor|SELinux|SeccompProfilePath|Networking|portforward|attach|Multiple Containers.*should support network$';

/** The decompressed tools, or why there are none. */
export interface CriTools {
  readonly skipReason: string | undefined;
  readonly dir: string;
  readonly critest: string;
  readonly crictl: string;
  /** Removes the temp dir. */
  release(): Promise<void>;
}

/** Decompresses critest and crictl into a temp dir (cri-tools.ts: where from, when it skips). */
export async function criTools(): Promise<CriTools> {
  const tools = await decompressCriTools(['critest', 'crictl'], { needsRoot: true });
  return { ...tools, critest: tools.paths.critest, crictl: tools.paths.crictl };
}

/** What one critest run gave. */
export interface CritestRun {
  readonly exitCode: number | null;
  readonly specs: readonly SpecResult[];
  /** critest's output (stdout and stderr), for failure messages. */
  readonly output: string;
}

/** Options of {@link runCritest}. */
export interface RunCritestOptions {
  /** A fresh directory critest may use as TMPDIR (its host paths and mounts go there). */
  readonly workDir: string;
  /** Extra critest flags (e.g. `-benchmark`). */
  readonly args?: readonly string[];
  readonly timeoutMs?: number;
}

/**
 * Runs critest against `endpoint` (runtime and image service) with {@link critestSkip}, TMPDIR
 * in `workDir`; resolves with the specs of its JSON report. After the run, unmounts whatever
 * critest left mounted under `workDir` (its mount-propagation specs mount on the host).
 */
export async function runCritest(
  critest: string,
  endpoint: string,
  options: RunCritestOptions,
): Promise<CritestRun> {
  await mkdir(options.workDir, { recursive: true });
  const report = join(options.workDir, 'critest-report.json');
  const args = [
    `--runtime-endpoint=${endpoint}`,
    `--image-endpoint=${endpoint}`,
    `--ginkgo.skip=${critestSkip}`,
    `--ginkgo.json-report=${report}`,
    '--ginkgo.no-color',
    ...(options.args ?? []),
  ];
  const chunks: Buffer[] = [];
  const child = spawn(critest, args, {
    cwd: options.workDir,
    env: { ...process.env, TMPDIR: options.workDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stderr.on('data', (c: Buffer) => chunks.push(c));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15 * 60_000);
  const exitCode = await new Promise<number | null>((done) =>
    child.on('close', (code) => done(code)),
  );
  clearTimeout(timer);
  await unmountUnder(options.workDir);
  const output = Buffer.concat(chunks).toString('utf8');
  let specs: SpecResult[] = [];
  if (existsSync(report)) specs = parseGinkgoReport(await readFile(report, 'utf8'));
  return { exitCode, specs, output };
}

/** The bridge critest's Privileged and capability specs make (`brctl addbr foobar`). */
export const critestBridge = 'foobar';

/**
 * critest's Privileged and capability specs run `brctl addbr foobar` in a container and never
 * remove it; where the container shares the host's network namespace (the process executor's
 * do), that bridge is made on the host. Refuses to start when the host has one already (those
 * specs' outcome would depend on it) and returns a function that deletes the one a run made.
 */
export function guardCritestBridge(): () => Promise<void> {
  const link = `/sys/class/net/${critestBridge}`;
  if (existsSync(link)) {
    throw new Error(
      `this host has a network interface "${critestBridge}", which critest's brctl specs would trip over; if an earlier critest run left it: ip link delete ${critestBridge}`,
    );
  }
  return async () => {
    if (existsSync(link)) await run('ip', ['link', 'delete', critestBridge]);
  };
}

/** Lazily unmounts every mount point under `dir`, deepest first. */
export async function unmountUnder(dir: string): Promise<void> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const points = mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const point of points) await run('umount', ['-l', point]).catch(() => undefined);
}
