// The stock critest (cri-tools v1.26.1, ../shared/tools/cri-tools) against `churn serve
// --executor runc`, `--executor process`, and the private containerd as the reference, with the
// skip expression of issue 11 and the images scripts/critest-images.ts builds; and its basic
// subset (`basic operations`, 10 specs) against the private CRI-O. Each run must
// match test/e2e/critest-expectations.ts exactly: a failure not listed fails, and so does a
// listed spec that passes (its entry must go), except on a target the entry says `varies`.
// docs/critest.md explains the list and gives the measured counts.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { mirrorRegistries } from '../../scripts/containerd.js';
import { mirrorRegistries as mirrorCrioRegistries } from '../../scripts/crio.js';
import { buildCritestImages, critestRegistries } from '../../scripts/critest-images.js';
import { startServe } from '../support/churn-process.js';
import { containerdForTests } from '../support/containerd.js';
import { crioForTests } from '../support/crio.js';
import { criTools, guardCritestBridge, runCritest, unmountUnder } from '../support/critest.js';
import { describeVerdict, judgeCritest, type CritestTarget } from '../support/critest-report.js';
import { serveOciArchives } from '../support/oci-registry.js';
import { critestExpectedFailures } from './critest-expectations.js';

const tools = await criTools();
/** The focus of critest's basic subset: `should support basic operations on container runtime`. */
const critestBasicSubset = 'basic operations';
const runTimeoutMs = 15 * 60_000;

/** A temp dir for one run, unmounted and removed when the test finishes. */
async function workDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onTestFinished(async () => {
    await unmountUnder(dir);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

describe.skipIf(tools.skipReason !== undefined)('critest (stock, cri-tools v1.26.1)', () => {
  let imagesDir = '';
  beforeAll(async () => {
    imagesDir = await mkdtemp(join(tmpdir(), 'churn-critest-images-'));
    await buildCritestImages(imagesDir);
  });
  afterAll(async () => {
    if (imagesDir !== '') await rm(imagesDir, { recursive: true, force: true });
    await tools.release();
  });

  function judge(target: CritestTarget, run: Awaited<ReturnType<typeof runCritest>>): void {
    expect(
      run.specs.length,
      `critest wrote no report:\n${run.output.slice(-3000)}`,
    ).toBeGreaterThan(0);
    const verdict = judgeCritest(run.specs, critestExpectedFailures, target);
    console.log(describeVerdict(target, verdict));
    expect(
      [
        ...verdict.unexpectedFailures.map((s) => s.name),
        ...verdict.unexpectedPasses,
        ...verdict.notRun,
      ],
      describeVerdict(target, verdict),
    ).toEqual([]);
  }

  it.each(['runc', 'process'] as const)(
    'churn serve --executor %s fails exactly the expected specs',
    async (executor) => {
      onTestFinished(guardCritestBridge());
      const dir = await workDir(`churn-critest-${executor}-`);
      const socket = join(dir, 'cri.sock');
      const serve = await startServe(
        [
          '--socket',
          socket,
          '--state-dir',
          join(dir, 'state'),
          '--executor',
          executor,
          '--images',
          imagesDir,
        ],
        dir,
      );
      expect(serve.stdout(), serve.stderr()).toContain('listening on');
      const run = await runCritest(tools.critest, `unix://${socket}`, {
        workDir: join(dir, 'tmp'),
        timeoutMs: runTimeoutMs,
      });
      judge(executor, run);
    },
    runTimeoutMs + 60_000,
  );

  it(
    'containerd (the reference) fails exactly the expected specs',
    async (ctx) => {
      const containerd = await containerdForTests();
      onTestFinished(() => containerd.release());
      if (containerd.skipReason !== undefined) ctx.skip(containerd.skipReason);
      onTestFinished(guardCritestBridge());
      const dir = await workDir('churn-critest-containerd-');
      const archives = (await readdir(imagesDir)).map((name) => join(imagesDir, name));
      const registry = await serveOciArchives(archives);
      onTestFinished(() => registry.close());
      const unmirror = await mirrorRegistries(
        containerd.paths,
        critestRegistries(),
        registry.address,
      );
      onTestFinished(unmirror);
      const run = await runCritest(tools.critest, containerd.endpoint, {
        workDir: join(dir, 'tmp'),
        timeoutMs: runTimeoutMs,
      });
      judge('containerd', run);
    },
    runTimeoutMs + 60_000,
  );

  it(
    "CRI-O fails exactly the expected specs of critest's basic subset",
    async (ctx) => {
      const crio = await crioForTests();
      onTestFinished(() => crio.release());
      if (crio.skipReason !== undefined) ctx.skip(crio.skipReason);
      const dir = await workDir('churn-critest-crio-');
      const archives = (await readdir(imagesDir)).map((name) => join(imagesDir, name));
      const registry = await serveOciArchives(archives);
      onTestFinished(() => registry.close());
      onTestFinished(await mirrorCrioRegistries(crio.paths, registry.address));
      const run = await runCritest(tools.critest, crio.endpoint, {
        workDir: join(dir, 'tmp'),
        args: [`--ginkgo.focus=${critestBasicSubset}`],
        timeoutMs: runTimeoutMs,
      });
      judge('crio', run);
    },
    runTimeoutMs + 60_000,
  );
});
