/**
 * The private containerd for e2e tests (scripts/containerd.ts): used when it runs already,
 * started otherwise and then stopped again after the file's tests. Where it cannot run (not
 * root, no containerd), tests skip — except in CI (`CI=true`), where that is a failure.
 *
 *   const containerd = await containerdForTests();
 *   afterAll(() => containerd.release());
 *   describe.skipIf(containerd.skipReason !== undefined)('…', () => { … containerd.endpoint … });
 */
import { join } from 'node:path';
import {
  busyboxRef,
  containerdPaths,
  pauseRef,
  type ContainerdPaths,
  restartContainerd,
  runningPid,
  startContainerd,
  stopContainerd,
} from '../../scripts/containerd.js';

/** The containerd the tests use, or why there is none. */
export interface TestContainerd {
  /** Set when the tests must skip (never in CI: there, a missing containerd throws). */
  readonly skipReason: string | undefined;
  /** `unix:///…/containerd.sock`. */
  readonly endpoint: string;
  readonly socketPath: string;
  /** Runtime handlers configured: `runc` (default) and `runc-nopivot`. */
  readonly handlers: readonly string[];
  /** The busybox image it has, churn's default cri image. */
  readonly busyboxRef: string;
  readonly pauseRef: string;
  /** Directory of the image archives it imported (busybox.tar, pause.tar), for churn serve --images. */
  readonly imagesDir: string;
  /** Its directories (scripts/containerd.ts), e.g. for mirrorRegistries(). */
  readonly paths: ContainerdPaths;
  /** The daemon's pid now. */
  pid(): Promise<number | undefined>;
  /** Restarts the daemon on the same directory (pods survive); resolves once CRI answers. */
  restart(): Promise<void>;
  /** Stops containerd if this call started it; otherwise leaves it running. */
  release(): Promise<void>;
}

/** Finds or starts the private containerd; see the module comment. */
export async function containerdForTests(): Promise<TestContainerd> {
  const paths = containerdPaths();
  const base = {
    endpoint: paths.endpoint,
    socketPath: paths.socket,
    handlers: ['runc', 'runc-nopivot'],
    busyboxRef,
    pauseRef,
    imagesDir: paths.images,
    paths,
    pid: () => runningPid(paths),
    restart: async () => {
      await restartContainerd(paths);
    },
  };
  const inCi = process.env['CI'] === 'true';
  const unavailable = (reason: string): TestContainerd => {
    if (inCi) throw new Error(`containerd is required in CI but ${reason}`);
    return { ...base, skipReason: reason, release: () => Promise.resolve() };
  };
  if (process.platform !== 'linux') return unavailable('this is not Linux');
  if (process.getuid?.() !== 0) return unavailable('the private containerd needs root');
  if ((await runningPid(paths)) !== undefined) {
    return { ...base, skipReason: undefined, release: () => Promise.resolve() };
  }
  try {
    await startContainerd(paths);
  } catch (err) {
    return unavailable(
      `it could not be started: ${(err as Error).message} (log: ${join(paths.dir, 'containerd.log')})`,
    );
  }
  return { ...base, skipReason: undefined, release: () => stopContainerd(paths) };
}
