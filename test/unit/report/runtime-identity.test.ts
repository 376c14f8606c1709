// Which runtime a run measured, and what compare makes of two: a mix is refused unless a
// cross-runtime comparison is asked for; then the result names each side's runtime, the
// runtime's facts are no warnings between the sides, and each driver's default image counts as
// the same image.
import { describe, expect, it } from 'vitest';
import { isChurnError } from '../../../src/common/errors.js';
import {
  baselineSkipReason,
  environmentWarnings,
  scenarioDifference,
} from '../../../src/report/comparable.js';
import { compareReports } from '../../../src/report/compare/compare.js';
import type { LoadedReport } from '../../../src/report/compare/samples.js';
import { renderCompareHtml } from '../../../src/report/render/compare-html.js';
import { renderCompareMarkdown } from '../../../src/report/render/compare-markdown.js';
import { renderCompareTerminal } from '../../../src/report/render/compare-terminal.js';
import { renderCompareJson } from '../../../src/report/render/json.js';
import {
  checkSideRuntimes,
  runtimeFields,
  runtimeIdentity,
  runtimeLabel,
  sameRuntime,
} from '../../../src/report/runtime-identity.js';
import type { Report } from '../../../src/report/schema.js';
import { defaultOps, syntheticReport } from '../../support/synthetic-report.js';

interface RuntimeOptions {
  readonly driver?: 'builtin' | 'cri' | 'containerd';
  readonly name?: string;
  readonly version?: string;
  readonly handler?: string;
}

/** A short synthetic run on the given runtime (default: the core over the builtin driver). */
function on(seed: number, runtime: RuntimeOptions = {}, extra: Record<string, unknown> = {}) {
  return syntheticReport({
    seed,
    ops: defaultOps(),
    durationMs: 3000,
    runtime: {
      name: runtime.name ?? 'churn-core',
      version: runtime.version ?? '0.1.0',
      handler: runtime.handler ?? '',
    },
    scenario: { target: { driver: runtime.driver ?? 'builtin' }, ...extra },
  });
}

const named = (source: string, report: Report): LoadedReport => ({ report, source });
const containerd: RuntimeOptions = { driver: 'cri', name: 'containerd', version: '1.6.20' };
const crio: RuntimeOptions = { driver: 'cri', name: 'cri-o', version: '1.26.4' };
const fast = { bootstrapDraws: 200 };

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (err) {
    expect(isChurnError(err, 'NOT_COMPARABLE')).toBe(true);
    return err as Error;
  }
  throw new Error('expected NOT_COMPARABLE, nothing was thrown');
}

describe('runtime identity', () => {
  it('is the driver, the runtime name and the handler, not the version', () => {
    const a = runtimeIdentity(on(1, containerd));
    expect(a).toEqual({ driver: 'cri', name: 'containerd', handler: '' });
    expect(sameRuntime(a, runtimeIdentity(on(2, { ...containerd, version: '1.7.0' })))).toBe(true);
    expect(runtimeLabel(a)).toBe('containerd (driver cri)');
    expect(runtimeFields(a)).toBe('driver cri, runtime containerd, handler default');
    const nopivot = { driver: 'cri', name: 'containerd', handler: 'runc-nopivot' };
    expect(runtimeLabel(nopivot)).toBe('containerd (driver cri, handler runc-nopivot)');
    expect(runtimeFields({ driver: 'cri', name: null, handler: null })).toBe(
      'driver cri, runtime unknown, handler unknown',
    );
  });

  it.each<[string, RuntimeOptions]>([
    ['driver', { ...containerd, driver: 'containerd' }],
    ['runtime name', crio],
    ['handler', { ...containerd, handler: 'runc-nopivot' }],
  ])('refuses sides that differ in %s, naming both and --across-runtimes', (_, other) => {
    const base = [named('a.json', on(1, containerd))];
    const candidate = [named('b.json', on(2, other))];
    const error = thrown(() => checkSideRuntimes(base, candidate, false));
    expect(error.message).toMatch(
      /^cannot compare runs of different runtimes unless asked: base a\.json ran driver cri, runtime containerd, handler default; candidate b\.json ran driver \S+, runtime \S+, handler \S+\. To compare the runtimes on purpose: churn compare --across-runtimes$/,
    );
    expect(checkSideRuntimes(base, candidate, true)).toEqual({
      base: runtimeIdentity(base[0]!.report),
      candidate: runtimeIdentity(candidate[0]!.report),
    });
  });

  it('needs every run of a side on one runtime, even across runtimes', () => {
    const base = [named('a1.json', on(1, containerd)), named('a2.json', on(2, crio))];
    const candidate = [named('b1.json', on(3, crio))];
    for (const across of [false, true]) {
      expect(thrown(() => checkSideRuntimes(base, candidate, across)).message).toMatch(
        /the base side mixes runtimes: a1\.json ran driver cri, runtime containerd, handler default but a2\.json ran driver cri, runtime cri-o, handler default .*even with --across-runtimes/,
      );
      expect(thrown(() => checkSideRuntimes(candidate, base, across)).message).toMatch(
        /the candidate side mixes runtimes/,
      );
    }
    // Another version of the same runtime on one side is no mix.
    const versions = [
      named('c1.json', on(4, containerd)),
      named('c2.json', on(5, { ...containerd, version: '1.7.0' })),
    ];
    expect(checkSideRuntimes(versions, versions, false)).toBeUndefined();
  });
});

describe('compare across runtimes', () => {
  it('refuses a plain comparison of two runtimes before anything else', () => {
    // builtin and cri also run different default images: the runtime is what is named.
    const error = thrown(() =>
      compareReports([named('core.json', on(1))], [named('ctd.json', on(2, containerd))], fast),
    );
    expect(error.message).toMatch(
      /different runtimes unless asked: base core\.json ran driver builtin/,
    );
    expect(error.message).toContain('--across-runtimes');
  });

  it("names the sides' runtimes, and warns about the host but not about the runtimes", () => {
    const base = [
      named('ctd1.json', on(1, containerd)),
      named('ctd2.json', on(2, { ...containerd, version: '1.7.0' })),
    ];
    const crio2 = on(4, crio);
    const candidate = [
      named('crio1.json', on(3, crio)),
      named('crio2.json', { ...crio2, environment: { ...crio2.environment, kernel: '6.9.0' } }),
    ];
    const c = compareReports(base, candidate, { ...fast, acrossRuntimes: true });
    expect(c.acrossRuntimes).toEqual({
      base: { driver: 'cri', name: 'containerd', handler: '' },
      candidate: { driver: 'cri', name: 'cri-o', handler: '' },
    });
    const warnings = c.warnings.join('\n');
    expect(warnings).toMatch(
      /environments differ: kernel 6\.1\.0-18-amd64 \(.*\) vs 6\.9\.0 \(crio2\.json\)/,
    );
    // Versions within a side still warn; the sides' runtimes do not.
    expect(warnings).toMatch(
      /environments differ: runtime version 1\.6\.20 \(ctd1\.json\) vs 1\.7\.0 \(ctd2\.json\)/,
    );
    expect(warnings).not.toMatch(/environments differ: runtime (?!version)/);
    expect(warnings).not.toMatch(/1\.26\.4/);
  });

  it('says so in the header of every format', () => {
    const c = compareReports(
      [named('ctd.json', on(1, containerd))],
      [named('crio.json', on(2, crio))],
      {
        ...fast,
        acrossRuntimes: true,
      },
    );
    const line =
      'cross-runtime comparison: base containerd (driver cri) vs candidate cri-o (driver cri)';
    const terminal = renderCompareTerminal(c).split('\n');
    expect(terminal[0]).toMatch(/^churn compare across runtimes · scenario synthetic · /);
    expect(terminal[1]).toBe(line);
    const md = renderCompareMarkdown(c).split('\n');
    expect(md[0]).toBe('## churn compare across runtimes: `synthetic`');
    expect(md[2]).toBe(`**${line}**`);
    const json = JSON.parse(renderCompareJson(c)) as { acrossRuntimes: unknown };
    expect(json.acrossRuntimes).toEqual(c.acrossRuntimes);
    const html = renderCompareHtml(
      c,
      [named('ctd.json', on(1, containerd))],
      [named('crio.json', on(2, crio))],
    );
    expect(html).toContain('<h1>churn compare across runtimes · synthetic</h1>');
    expect(html).toContain(`<div class="sub">${line} · `);
  });

  it('keeps the plain header when both sides ran one runtime, with a note when asked across', () => {
    const base = [named('a.json', on(1, containerd))];
    const candidate = [named('b.json', on(2, containerd))];
    const plain = compareReports(base, candidate, fast);
    expect(plain.acrossRuntimes).toBeNull();
    expect(renderCompareTerminal(plain)).toMatch(/^churn compare · scenario synthetic/);
    expect(JSON.parse(renderCompareJson(plain))).toMatchObject({ acrossRuntimes: null });
    const asked = compareReports(base, candidate, { ...fast, acrossRuntimes: true });
    expect(asked.acrossRuntimes).toBeNull();
    expect(asked.notes).toContain(
      'a cross-runtime comparison was asked for, but both sides ran containerd (driver cri)',
    );
  });

  it("counts each driver's default image as the same image, and says so", () => {
    const core = on(1);
    const ctd = on(2, containerd);
    expect(core.scenario.workloads[0]!.image).toBe('host');
    expect(ctd.scenario.workloads[0]!.image).toBe('docker.io/library/busybox:latest');
    expect(scenarioDifference(core.scenario, ctd.scenario)).toBe('workloads[0].image');
    expect(
      scenarioDifference(core.scenario, ctd.scenario, { acrossRuntimes: true }),
    ).toBeUndefined();
    const c = compareReports([named('core.json', core)], [named('ctd.json', ctd)], {
      ...fast,
      acrossRuntimes: true,
    });
    expect(c.notes).toContain(
      "workload default ran each driver's default image: host (builtin) vs docker.io/library/busybox:latest (cri)",
    );
    // An image a scenario names is compared as ever.
    const named1 = on(3, {}, { workload: { image: 'docker.io/library/alpine:3' } });
    expect(() =>
      compareReports([named('core.json', named1)], [named('ctd.json', ctd)], {
        ...fast,
        acrossRuntimes: true,
      }),
    ).toThrow(/scenario\.workloads\[0\]\.image is "docker\.io\/library\/alpine:3" in core\.json/);
  });

  it('still refuses different scenarios across runtimes', () => {
    const other = on(2, crio, { load: { phases: [{ duration: '3s', concurrency: 4 }] } });
    expect(() =>
      compareReports([named('a.json', on(1, containerd))], [named('b.json', other)], {
        ...fast,
        acrossRuntimes: true,
      }),
    ).toThrow(
      /cannot compare runs of different scenarios: scenario\.load\.phases\[0\]\.concurrency/,
    );
  });
});

describe('environment warnings and baselines by runtime', () => {
  it('names the default handler, never an empty gap', () => {
    const warnings = environmentWarnings([
      named('a.json', on(1, containerd)),
      named('b.json', on(2, { ...containerd, handler: 'runc' })),
    ]);
    expect(warnings).toContain(
      'environments differ: runtime handler default (a.json) vs runc (b.json)',
    );
    expect(
      environmentWarnings(
        [named('a.json', on(1, containerd)), named('b.json', on(2, crio))],
        'host',
      ),
    ).toEqual([]);
  });

  it('skips a baseline of another runtime unless across runtimes', () => {
    const candidate = on(1, containerd);
    const runtime = runtimeIdentity(candidate);
    expect(baselineSkipReason(on(2, crio), candidate.scenario, { runtime })).toBe(
      'other runtime cri-o (driver cri)',
    );
    expect(baselineSkipReason(on(3, containerd), candidate.scenario, { runtime })).toBeUndefined();
    expect(
      baselineSkipReason(on(2, crio), candidate.scenario, { runtime, acrossRuntimes: true }),
    ).toBeUndefined();
    // Across runtimes, each driver's default image is the same image; without, it differs.
    expect(baselineSkipReason(on(4), candidate.scenario, { acrossRuntimes: true })).toBeUndefined();
    expect(baselineSkipReason(on(4), candidate.scenario, { runtime })).toBe(
      'different workloads[0].image',
    );
  });
});
