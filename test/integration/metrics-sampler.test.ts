// The resource sampler on the real /proc: this process, a child started here, and the page
// size and tick rate read from auxv.
import { spawn } from 'node:child_process';
import { describe, expect, it, onTestFinished } from 'vitest';
import { systemClock } from '../../src/common/clock.js';
import { procfs } from '../../src/metrics/procfs.js';
import { findProcessesByName, ResourceSampler } from '../../src/metrics/sampler.js';

describe('ResourceSampler on /proc', () => {
  it('reads a child process, and sees it go', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    onTestFinished(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    // Sampled once the child sleeps in sleep: between fork and exec it is a copy of node, and
    // right after exec its new memory has no resident page yet.
    const sleeping = async (): Promise<boolean> => {
      const stat = await procfs.stat(child.pid!);
      return stat?.comm === 'sleep' && stat.state === 'S';
    };
    for (let i = 0; i < 500 && !(await sleeping()); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const sampler = new ResourceSampler({ clock: systemClock });
    onTestFinished(() => sampler.stop());
    sampler.setTarget({ source: 'pid', pid: child.pid!, name: 'sleep' });
    const up = (await sampler.sample()).target!;
    expect(up).toMatchObject({ name: 'sleep', pid: child.pid, up: true, threads: 1, shims: 0 });
    expect(up.rssBytes).toBeGreaterThan(0);
    expect(up.openFds).toBeGreaterThanOrEqual(3);
    expect(up.cpuSeconds).toBeGreaterThanOrEqual(0);
    expect(await findProcessesByName('sleep')).toContain(child.pid);
    child.kill('SIGKILL');
    await exited;
    expect((await sampler.sample()).target?.up).toBe(false);
  });

  it('reads churn itself: CPU grows with work, memory and descriptors are real', async () => {
    const sampler = new ResourceSampler({ clock: systemClock });
    onTestFinished(() => sampler.stop());
    sampler.setTarget({ source: 'self', name: 'churn' });
    const before = await sampler.sample();
    const until = performance.now() + 200;
    while (performance.now() < until) {
      // Burn CPU so the tick counter moves.
    }
    // The delay monitor records the stall when its timer fires after it.
    await new Promise((r) => setTimeout(r, 50));
    const after = await sampler.sample();
    expect(after.target!.pid).toBe(process.pid);
    expect(after.target!.cpuSeconds!).toBeGreaterThan(before.target!.cpuSeconds!);
    expect(after.harness.cpuSeconds).toBeGreaterThan(before.harness.cpuSeconds);
    // Our own RSS through /proc and through Node agree within a few pages.
    expect(Math.abs(after.target!.rssBytes! - after.harness.rssBytes)).toBeLessThan(
      64 * 1024 * 1024,
    );
    expect(after.harness.openFds).toBeGreaterThan(0);
    // The 200 ms busy loop blocked the event loop: the harness saw the lag.
    expect(after.harness.eventLoopLagMaxSeconds).toBeGreaterThan(0.1);
  });

  it('knows the page size and clock tick rate', async () => {
    const c = await procfs.constants();
    expect([4096, 16384, 65536]).toContain(c.pageSizeBytes);
    expect(c.clockTicksPerSec).toBeGreaterThan(0);
  });
});
