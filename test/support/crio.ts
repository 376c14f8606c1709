/**
 * The private CRI-O for e2e tests (scripts/crio.ts): used when it runs already, started
 * otherwise and then stopped again after the file's tests. Where it cannot run (not root, no
 * crio binary, no conmon) tests skip — except in CI (`CI=true`), where that is a failure.
 *
 *   const crio = await crioForTests();
 *   afterAll(() => crio.release());
 *   describe.skipIf(crio.skipReason !== undefined)('…', () => { … crio.endpoint … });
 */
import {
  busyboxRef,
  crioPaths,
  type CrioPaths,
  pauseRef,
  restartCrio,
  runningPid,
  startCrio,
  stopCrio,
} from '../../scripts/crio.js';

/** The CRI-O the tests use, or why there is none. */
export interface TestCrio {
  /** Set when the tests must skip (never in CI: there, a missing CRI-O throws). */
  readonly skipReason: string | undefined;
  /** `unix:///…/crio.sock`. */
  readonly endpoint: string;
  readonly socketPath: string;
  /** The busybox image it has, churn's default cri image. */
  readonly busyboxRef: string;
  readonly pauseRef: string;
  /** Its directories (scripts/crio.ts), e.g. for mirrorRegistries(). */
  readonly paths: CrioPaths;
  /** The daemon's pid now. */
  pid(): Promise<number | undefined>;
  /** Restarts the daemon on the same directory; resolves once CRI answers. */
  restart(): Promise<void>;
  /** Stops CRI-O if this call started it; otherwise leaves it running. */
  release(): Promise<void>;
}

/** Finds or starts the private CRI-O; see the module comment. */
export async function crioForTests(): Promise<TestCrio> {
  const paths = crioPaths();
  const base = {
    endpoint: paths.endpoint,
    socketPath: paths.socket,
    busyboxRef,
    pauseRef,
    paths,
    pid: () => runningPid(paths),
    restart: async () => {
      await restartCrio(paths);
    },
  };
  const unavailable = (reason: string): TestCrio => {
    if (process.env['CI'] === 'true') throw new Error(`CRI-O is required in CI but ${reason}`);
    return { ...base, skipReason: reason, release: () => Promise.resolve() };
  };
  if (process.platform !== 'linux') return unavailable('this is not Linux');
  if (process.getuid?.() !== 0) return unavailable('the private CRI-O needs root');
  if ((await runningPid(paths)) !== undefined) {
    return { ...base, skipReason: undefined, release: () => Promise.resolve() };
  }
  try {
    await startCrio(paths);
  } catch (err) {
    return unavailable(`it could not be started: ${(err as Error).message} (log: ${paths.log})`);
  }
  return { ...base, skipReason: undefined, release: () => stopCrio(paths) };
}
