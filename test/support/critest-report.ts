/**
 * critest's results, read from its ginkgo v2 JSON report (`--ginkgo.json-report`), and judged
 * against a list of expected failures: pure functions, unit-tested in
 * test/unit/cri/critest-report.test.ts.
 */

/** One spec critest ran (or skipped). `name` is ginkgo's full text: containers, then the leaf. */
export interface SpecResult {
  readonly name: string;
  /** ginkgo's state: passed, failed, skipped, pending, panicked, interrupted, aborted, timedout. */
  readonly state: string;
  /** The failure's message (first lines), '' when it passed. */
  readonly message: string;
}

/** What critest is run against. */
export type CritestTarget = 'containerd' | 'crio' | 'runc' | 'process';

/** A spec expected to fail on some targets, and why. */
export interface ExpectedFailure {
  readonly spec: string;
  /** The targets it fails on in every run: a pass there is an error (the entry is stale). */
  readonly on: readonly CritestTarget[];
  /**
   * The targets where it passes or fails from run to run, for a reason outside churn's control
   * that `reason` names (the host's tools, a race in critest's own check): either is accepted.
   */
  readonly varies?: readonly CritestTarget[];
  readonly reason: string;
}

interface GinkgoSpecReport {
  readonly ContainerHierarchyTexts?: readonly string[] | null;
  readonly LeafNodeType?: string;
  readonly LeafNodeText?: string;
  readonly State?: string;
  readonly Failure?: { readonly Message?: string } | null;
}

/** The `It` specs of a ginkgo v2 JSON report (suite nodes such as BeforeSuite are left out). */
export function parseGinkgoReport(json: string): SpecResult[] {
  const suites = JSON.parse(json) as { SpecReports?: GinkgoSpecReport[] | null }[];
  const specs: SpecResult[] = [];
  for (const suite of suites) {
    for (const r of suite.SpecReports ?? []) {
      if (r.LeafNodeType !== 'It') continue;
      specs.push({
        name: [...(r.ContainerHierarchyTexts ?? []), r.LeafNodeText ?? ''].join(' '),
        state: r.State ?? 'unknown',
        message: (r.Failure?.Message ?? '').split('\n').slice(0, 4).join(' ').trim(),
      });
    }
  }
  return specs;
}

/** How a run differs from its expectations; all empty when it matches them exactly. */
export interface Verdict {
  readonly passed: number;
  readonly failed: number;
  /** Failed and listed for this target (in `on` or `varies`). */
  readonly expectedFailures: readonly SpecResult[];
  /** Failed and not listed for this target. */
  readonly unexpectedFailures: readonly SpecResult[];
  /** Listed for this target but passed: the entry (or this target in its `on`) must go. */
  readonly unexpectedPasses: readonly string[];
  /** Listed for this target but not run at all (renamed, or skipped): the entry is stale. */
  readonly notRun: readonly string[];
}

/** Judges `specs` of one run on `target` against `expected`. */
export function judgeCritest(
  specs: readonly SpecResult[],
  expected: readonly ExpectedFailure[],
  target: CritestTarget,
): Verdict {
  const listed = new Set(expected.filter((e) => e.on.includes(target)).map((e) => e.spec));
  const varies = new Set(
    expected.filter((e) => e.varies?.includes(target) === true).map((e) => e.spec),
  );
  const ran = specs.filter((s) => s.state !== 'skipped' && s.state !== 'pending');
  const failed = ran.filter((s) => s.state !== 'passed');
  const passed = ran.filter((s) => s.state === 'passed');
  const ranNames = new Set(ran.map((s) => s.name));
  return {
    passed: passed.length,
    failed: failed.length,
    expectedFailures: failed.filter((s) => listed.has(s.name) || varies.has(s.name)),
    unexpectedFailures: failed.filter((s) => !listed.has(s.name) && !varies.has(s.name)),
    unexpectedPasses: passed.filter((s) => listed.has(s.name)).map((s) => s.name),
    notRun: [...listed, ...varies].filter((name) => !ranNames.has(name)).sort(),
  };
}

/** A message naming every difference of `verdict`, for a failed assertion. */
export function describeVerdict(target: CritestTarget, verdict: Verdict): string {
  const lines = [
    `critest on ${target}: ${verdict.passed} passed, ${verdict.failed} failed`,
    ...verdict.unexpectedFailures.map(
      (s) =>
        `  failed, not expected (add to test/e2e/critest-expectations.ts or fix): ${s.name}\n      ${s.message}`,
    ),
    ...verdict.unexpectedPasses.map(
      (name) => `  passed, listed as expected to fail (remove '${target}' from its entry): ${name}`,
    ),
    ...verdict.notRun.map((name) => `  listed, but critest did not run it (stale entry?): ${name}`),
    ...verdict.expectedFailures.map((s) => `  failed as listed: ${s.name}\n      ${s.message}`),
  ];
  return lines.join('\n');
}
