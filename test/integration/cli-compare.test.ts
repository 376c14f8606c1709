// `churn compare`, in-process: sides from files, tags and the store; formats; exit codes.
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import { bufferIo } from '../support/cli-io.js';
import { tempStore, type TempStore } from '../support/report-store.js';
import { defaultOps, syntheticReport } from '../support/synthetic-report.js';

const day = (d: number) => Date.UTC(2025, 2, d, 10, 0, 0);
const base = syntheticReport({
  seed: 1,
  runId: 'base01',
  ops: defaultOps(),
  ratePerSec: 300,
  startWallMs: day(1),
});
const same = syntheticReport({
  seed: 2,
  runId: 'same02',
  ops: defaultOps(),
  ratePerSec: 300,
  startWallMs: day(2),
});
const slower = syntheticReport({
  seed: 3,
  runId: 'slow03',
  ops: defaultOps({ start: { scale: 1.3 } }),
  ratePerSec: 300,
  startWallMs: day(3),
});

let store: TempStore;
let paths: { base: string; same: string; slower: string };
beforeAll(async () => {
  store = await tempStore();
  paths = {
    base: await store.add(base),
    same: await store.add(same),
    slower: await store.add(slower),
  };
  return () => store.cleanup();
});

/** `churn ...args` in process, in `cwd`. */
async function churnIn(cwd: string, ...args: string[]) {
  const io = bufferIo({ cwd });
  const code = await runCli(args, io.io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

const churn = (...args: string[]) => churnIn(store.cwd, ...args);

const rel = (p: string) => relative(store.cwd, p);

describe('churn compare', () => {
  it('exits 1 on a regression and shows it in the table', async () => {
    const { code, stdout, stderr } = await churn('compare', rel(paths.base), rel(paths.slower));
    expect(stderr).toBe('');
    expect(code).toBe(1);
    expect(stdout).toMatch(/^start\s+p50\s+\S+\s+\S+\s+\+\d+\.\d%.*regression$/m);
    expect(stdout).toMatch(/regressions? \(start p50/);
  });

  it('exits 0 when nothing changed', async () => {
    const { code, stdout } = await churn('compare', rel(paths.base), rel(paths.same));
    expect(code).toBe(0);
    expect(stdout).toContain('0 regressions');
  });

  it('prints JSON rows and Markdown, and writes HTML to a file', async () => {
    const json = await churn('compare', rel(paths.base), rel(paths.slower), '--format', 'json');
    const parsed = JSON.parse(json.stdout) as {
      rows: { op: string; statistic: string; verdict: string }[];
    };
    expect(parsed.rows.filter((r) => r.verdict === 'regression').map((r) => r.op)).toContain(
      'start',
    );
    const md = await churn('compare', rel(paths.base), rel(paths.slower), '--format', 'md');
    expect(md.stdout).toMatch(/^## churn compare: `synthetic`/);
    const html = await churn(
      'compare',
      rel(paths.base),
      rel(paths.slower),
      '--format',
      'html',
      '-o',
      'cmp.html',
    );
    expect(html.code).toBe(1);
    expect(html.stderr).toContain(`wrote ${join(store.cwd, 'cmp.html')}`);
    expect(await readFile(join(store.cwd, 'cmp.html'), 'utf8')).toMatch(/^<!DOCTYPE html>/);
  });

  it('takes --min-effect, --alpha, --stat and --op', async () => {
    const { code, stdout } = await churn(
      'compare',
      rel(paths.base),
      rel(paths.slower),
      '--min-effect',
      '50%',
      '--stat',
      'p50,mean',
      '--op',
      'start',
      '--format',
      'json',
    );
    expect(code).toBe(0);
    const parsed = JSON.parse(stdout) as {
      rows: { op: string; statistic: string }[];
      minEffectPct: number;
    };
    expect(parsed.minEffectPct).toBe(50);
    expect(parsed.rows.map((r) => `${r.op} ${r.statistic}`)).toEqual(['start p50', 'start mean']);
    expect((await churn('compare', rel(paths.base), rel(paths.slower), '--stat', 'p42')).code).toBe(
      2,
    );
  });

  it('finds the baseline in the store: --baseline latest and tags', async () => {
    const latest = await churn('compare', '--baseline', 'latest', '--format', 'json');
    expect(latest.code).toBe(1);
    const sides = JSON.parse(latest.stdout) as {
      base: { runId: string }[];
      candidate: { runId: string }[];
    };
    expect([sides.base[0]!.runId, sides.candidate[0]!.runId]).toEqual(['same02', 'slow03']);
    const previous = await churn(
      'compare',
      '--baseline',
      'latest',
      rel(paths.same),
      '--format',
      'json',
    );
    expect((JSON.parse(previous.stdout) as typeof sides).base[0]!.runId).toBe('base01');
    expect((await churn('compare', '--baseline', 'latest', rel(paths.base))).stderr).toMatch(
      /no earlier comparable run of scenario "synthetic"/,
    );
    expect((await churn('report', 'tag', rel(paths.base), 'golden')).code).toBe(0);
    const tagged = await churn('compare', 'golden', rel(paths.slower), '--format', 'json');
    expect((JSON.parse(tagged.stdout) as typeof sides).base[0]!.runId).toBe('base01');
    const viaFlag = await churn('compare', '--baseline', 'golden', rel(paths.same));
    expect(viaFlag.code).toBe(0);
  });

  it('--baseline latest takes the newest comparable run, naming the newer runs it skipped', async () => {
    const own = await tempStore();
    try {
      const at = (d: number, options: Partial<Parameters<typeof syntheticReport>[0]> = {}) =>
        syntheticReport({
          seed: 40 + d,
          runId: `day0${d}`,
          ops: defaultOps(),
          ratePerSec: 300,
          startWallMs: day(d),
          ...options,
        });
      await own.add(at(1));
      await own.add(at(2));
      await own.add(at(3, { state: 'interrupted' }));
      await own.add(
        at(4, { scenario: { load: { phases: [{ duration: '10s', concurrency: 4 }] } } }),
      );
      await own.add(at(5));
      const io = bufferIo({ cwd: own.cwd });
      const code = await runCli(['compare', '--baseline', 'latest', '--format', 'json'], io.io);
      expect(io.stderr()).toBe('');
      expect(code).toBe(0);
      const parsed = JSON.parse(io.stdout()) as {
        base: { runId: string }[];
        candidate: { runId: string }[];
        notes: string[];
      };
      expect([parsed.base[0]!.runId, parsed.candidate[0]!.runId]).toEqual(['day02', 'day05']);
      expect(parsed.notes[0]).toMatch(
        /^baseline latest: \S+\/synthetic\/\S+_day02\.json \(run day02\); skipped 2 newer runs: day04 \(different load\.phases\[0\]\.concurrency\), day03 \(partial\)$/,
      );
      const terminal = bufferIo({ cwd: own.cwd });
      await runCli(['compare', '--baseline', 'latest'], terminal.io);
      expect(terminal.stdout()).toMatch(/^note: baseline latest: .*skipped 2 newer runs/m);
      expect(terminal.stdout()).toMatch(/^note: closed loop: throughput judged on cycle only/m);
    } finally {
      await own.cleanup();
    }
  });

  it('takes several runs per side', async () => {
    const { code, stdout } = await churn(
      'compare',
      '--base',
      rel(paths.base),
      rel(paths.same),
      '--candidate',
      rel(paths.slower),
      rel(paths.slower),
    );
    expect([0, 1]).toContain(code);
    expect(stdout).toContain('2 vs 2 runs, one sample per run');
    expect(stdout).toMatch(/warning: too few samples to tell \(n=2\+2 runs/);
  });

  it('refuses different scenarios with exit 2, naming the field', async () => {
    const other = await store.add(
      syntheticReport({
        seed: 4,
        runId: 'other4',
        ops: defaultOps(),
        durationMs: 2000,
        scenario: { load: { phases: [{ duration: '2s', concurrency: 8 }] } },
      }),
    );
    const { code, stderr } = await churn('compare', rel(paths.base), rel(other));
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /cannot compare runs of different scenarios: scenario\.load\.phases\[0\]\.concurrency is 2 in .* but 8 in /,
    );
  });

  it.each([
    ['truncated', (t: string) => t.slice(0, t.length / 2), /bad\.json: truncated/],
    ['not JSON', () => 'hello', /bad\.json: not JSON/],
    [
      'of a future version',
      (t: string) => t.replace('"schemaVersion": 1', '"schemaVersion": 9'),
      /bad\.json: schemaVersion 9 is newer/,
    ],
  ])('refuses a report that is %s with exit 2, naming the file', async (_what, mangle, message) => {
    await writeFile(join(store.cwd, 'bad.json'), mangle(await readFile(paths.base, 'utf8')));
    const { code, stderr } = await churn('compare', 'bad.json', rel(paths.slower));
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('says what it needs when the sides are missing', async () => {
    const { code, stderr } = await churn('compare', rel(paths.base));
    expect(code).toBe(2);
    expect(stderr).toMatch(/compare needs BASE and CANDIDATE/);
    expect((await churn('compare', 'nope', rel(paths.base))).stderr).toMatch(
      /nope: no such report file, and no tag/,
    );
  });
});

describe('churn compare across runtimes', () => {
  const runtimes = {
    containerd: { driver: 'cri', name: 'containerd', version: '1.6.20' },
    crio: { driver: 'cri', name: 'cri-o', version: '1.26.4' },
    core: { driver: 'builtin', name: 'churn-core', version: '0.1.0' },
  } as const;
  type RuntimeName = keyof typeof runtimes;
  const on = (runtime: RuntimeName, d: number, seed = 60 + d) => {
    const { driver, ...reported } = runtimes[runtime];
    return syntheticReport({
      seed,
      runId: `${runtime.slice(0, 4)}${d}`,
      ops: defaultOps(),
      ratePerSec: 300,
      durationMs: 4000,
      startWallMs: day(d),
      runtime: reported,
      scenario: { target: { driver } },
    });
  };
  let own: TempStore;
  beforeAll(async () => {
    own = await tempStore();
    return () => own.cleanup();
  });
  const inOwn = (...args: string[]) => churnIn(own.cwd, ...args);
  const ownRel = (p: string) => relative(own.cwd, p);

  it('teaches --across-runtimes in --help, with examples', async () => {
    const help = await inOwn('compare', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--across-runtimes\s+compare runs of different runtimes/);
    expect(help.stdout).toMatch(/churn compare --across-runtimes builtin\.json/);
    expect(help.stdout).toMatch(/containerd against CRI-O/);
  });

  it('refuses two runtimes unless asked, naming both sides and --across-runtimes', async () => {
    const ctd = ownRel(await own.add(on('containerd', 1)));
    const crio = ownRel(await own.add(on('crio', 2)));
    const plain = await inOwn('compare', ctd, crio);
    expect(plain.code).toBe(2);
    expect(plain.stdout).toBe('');
    expect(plain.stderr).toContain(
      `cannot compare runs of different runtimes unless asked: base ${ctd} ran driver cri, runtime containerd, handler default; candidate ${crio} ran driver cri, runtime cri-o, handler default. To compare the runtimes on purpose: churn compare --across-runtimes`,
    );

    const across = await inOwn('compare', '--across-runtimes', ctd, crio);
    expect(across.stderr).toBe('');
    expect([0, 1]).toContain(across.code);
    const lines = across.stdout.split('\n');
    expect(lines[0]).toMatch(/^churn compare across runtimes · scenario synthetic · 1 vs 1 run/);
    expect(lines[1]).toBe(
      'cross-runtime comparison: base containerd (driver cri) vs candidate cri-o (driver cri)',
    );
    expect(across.stdout).not.toMatch(/warning: environments differ: runtime/);

    const md = await inOwn('compare', '--across-runtimes', ctd, crio, '--format', 'md');
    expect(md.stdout).toMatch(
      /^## churn compare across runtimes: `synthetic`\n\n\*\*cross-runtime comparison: base containerd \(driver cri\) vs candidate cri-o \(driver cri\)\*\*\n/,
    );
    const json = await inOwn('compare', '--across-runtimes', ctd, crio, '--format', 'json');
    expect((JSON.parse(json.stdout) as { acrossRuntimes: unknown }).acrossRuntimes).toEqual({
      base: { driver: 'cri', name: 'containerd', handler: '' },
      candidate: { driver: 'cri', name: 'cri-o', handler: '' },
    });
    await inOwn('compare', '--across-runtimes', ctd, crio, '--format', 'html', '-o', 'x.html');
    const html = await readFile(join(own.cwd, 'x.html'), 'utf8');
    expect(html).toContain('<h1>churn compare across runtimes · synthetic</h1>');
    expect(html).toContain('cross-runtime comparison: base containerd (driver cri) vs candidate');
  });

  it('compares the built-in core with containerd, their default images counting as one', async () => {
    const core = ownRel(await own.add(on('core', 3)));
    const ctd = ownRel(await own.add(on('containerd', 4)));
    const plain = await inOwn('compare', core, ctd);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/ran driver builtin, runtime churn-core, handler default;/);
    const across = await inOwn('compare', '--across-runtimes', core, ctd);
    expect(across.stderr).toBe('');
    expect(across.stdout).toContain(
      'cross-runtime comparison: base churn-core (driver builtin) vs candidate containerd (driver cri)',
    );
    expect(across.stdout).toContain(
      "note: workload default ran each driver's default image: host (builtin) vs docker.io/library/busybox:latest (cri)",
    );
  });

  it('--baseline latest skips runs of other runtimes unless --across-runtimes', async () => {
    const store = await tempStore();
    try {
      await store.add(on('containerd', 1));
      const firstCrio = await store.add(on('crio', 2));
      await store.add(on('crio', 3));
      await store.add(on('containerd', 4));
      const run = (...args: string[]) =>
        churnIn(store.cwd, 'compare', '--baseline', 'latest', ...args);
      const same = await run('--format', 'json');
      expect(same.stderr).toBe('');
      const parsed = JSON.parse(same.stdout) as {
        base: { runId: string }[];
        candidate: { runId: string }[];
        acrossRuntimes: unknown;
        notes: string[];
      };
      expect([parsed.base[0]!.runId, parsed.candidate[0]!.runId]).toEqual(['cont1', 'cont4']);
      expect(parsed.acrossRuntimes).toBeNull();
      expect(parsed.notes[0]).toMatch(
        /skipped 2 newer runs: crio3 \(other runtime cri-o \(driver cri\)\), crio2 \(other runtime cri-o \(driver cri\)\)$/,
      );

      const across = await run('--across-runtimes', '--format', 'json');
      expect(across.stderr).toBe('');
      const crossed = JSON.parse(across.stdout) as typeof parsed;
      expect([crossed.base[0]!.runId, crossed.candidate[0]!.runId]).toEqual(['crio3', 'cont4']);
      expect(crossed.acrossRuntimes).toMatchObject({
        base: { name: 'cri-o' },
        candidate: { name: 'containerd' },
      });
      expect(crossed.notes[0]).toMatch(/^baseline latest: \S+_crio3\.json \(run crio3\)$/);

      // The first CRI-O run has only a containerd run before it: no baseline, and the flag named.
      const none = await run(relative(store.cwd, firstCrio));
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(
        /no earlier comparable run of scenario "synthetic" in .* \(skipped 1 run: cont1 \(other runtime containerd \(driver cri\)\)\); --across-runtimes takes runs of other runtimes/,
      );
      const noneAcross = await run(
        '--across-runtimes',
        relative(store.cwd, firstCrio),
        '--format',
        'json',
      );
      expect((JSON.parse(noneAcross.stdout) as typeof parsed).base[0]!.runId).toBe('cont1');
    } finally {
      await store.cleanup();
    }
  });

  it('refuses a side that mixes runtimes, with or without --across-runtimes', async () => {
    const ctd = ownRel(await own.add(on('containerd', 5)));
    const crio = ownRel(await own.add(on('crio', 6)));
    const crio2 = ownRel(await own.add(on('crio', 7)));
    for (const flags of [[], ['--across-runtimes']]) {
      const mixed = await inOwn(
        'compare',
        ...flags,
        '--base',
        ctd,
        crio,
        '--candidate',
        crio2,
        crio2,
      );
      expect(mixed.code).toBe(2);
      expect(mixed.stderr).toContain(
        `cannot compare: the base side mixes runtimes: ${ctd} ran driver cri, runtime containerd, handler default but ${crio} ran driver cri, runtime cri-o, handler default (every run of a side must measure the same runtime, even with --across-runtimes)`,
      );
    }
    // One runtime a side: allowed across runtimes, in runs mode.
    const sides = await inOwn(
      'compare',
      '--across-runtimes',
      '--base',
      ctd,
      ctd,
      '--candidate',
      crio,
      crio2,
    );
    expect(sides.stderr).toBe('');
    expect(sides.stdout).toMatch(
      /^churn compare across runtimes · scenario synthetic · 2 vs 2 runs/,
    );
  });
});
